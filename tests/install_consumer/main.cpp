// A program outside the tree, built against an installed tandem: it opens a SQLite
// deployment, reads its state, runs the expand phase and checks the state moved.
// Usage: consumer WORKDIR (an empty folder). Exits 0 when all went as expected.
#include <tandem/tandem.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

int fail(const std::string& message) {
  std::cerr << "consumer: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: consumer WORKDIR");
  const fs::path work = fs::absolute(argv[1]);
  const fs::path repos = work / "repos";
  write(repos / "expand_repo" / "001_accounts.yaml",
        "description: accounts\n"
        "operations:\n"
        "  - create_table:\n"
        "      name: accounts\n"
        "      columns:\n"
        "        - {name: id, type: integer, primary_key: true}\n");
  write(repos / "data_migration_repo" / "001_accounts.yaml", "description: nothing in this phase\noperations: []\n");
  write(repos / "contract_repo" / "001_accounts.yaml", "description: nothing in this phase\noperations: []\n");
  const fs::path database = work / "app.db";
  write(database, "");  // an empty file is an empty SQLite database

  try {
    auto deployment = tandem::Deployment::single(tandem::DatabaseUrl::parse("sqlite://" + database.string()));
    deployment.repos = repos;
    tandem::Engine engine(deployment);
    tandem::RunOptions options;

    auto before = engine.status(options);
    if (before.size() != 1) return fail("expected one database, got " + std::to_string(before.size()));
    if (before[0].versions[tandem::Phase::expand] != 0) return fail("expand already at a version before the run");
    if (before[0].readiness != tandem::Readiness::expand_needed)
      return fail(std::string("before: readiness ") + tandem::readiness_text(before[0].readiness));

    const auto report = engine.run(tandem::Phase::expand, options);
    if (report.units.size() != 1) return fail("expand ran " + std::to_string(report.units.size()) + " units, not 1");

    auto after = engine.status(options);
    if (after[0].versions[tandem::Phase::expand] != 1)
      return fail("expand at " + std::to_string(after[0].versions[tandem::Phase::expand]) + " after the run, not 1");
    if (after[0].readiness != tandem::Readiness::migrate_needed)
      return fail(std::string("after: readiness ") + tandem::readiness_text(after[0].readiness));
    std::cout << "tandem " << tandem::kToolVersion << ": expand 0 -> " << after[0].versions[tandem::Phase::expand]
              << ", " << tandem::readiness_text(after[0].readiness) << "\n";
  } catch (const tandem::Error& error) {
    return fail(error.describe());
  }
  return 0;
}
