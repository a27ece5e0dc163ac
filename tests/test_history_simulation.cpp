// The schema the history builds, simulated without a database (DESIGN §18).
#include <doctest/doctest.h>

#include "dialect/normalize.h"
#include "model/normalize.h"
#include "support.h"
#include "tandem/model.h"
#include "tandem/schema_diff.h"
#include "unit/history_simulation.h"
#include "unit/unit.h"

using namespace tandem;
using namespace tandem::test;
namespace fs = std::filesystem;

namespace {

std::string differences(const schema::Schema& model, const schema::Schema& simulated) {
  const auto& dialect = normalizer_for(DialectKind::sqlite);
  schema::DiffOptions options;
  options.detect_renames = false;
  options.match_by_content = true;
  std::string out;
  for (const auto& change : schema::diff(model::canonical(model, dialect), model::canonical(simulated, dialect), options))
    out += change.describe() + "\n";
  return out;
}

}  // namespace

TEST_CASE("simulation: the bundled history simulated to its last version is the bundled model, per role") {
  const fs::path root = TANDEM_SOURCE_DIR;
  const Repositories repositories = load_repositories_or_throw(root);
  const auto simulated = simulate_history(repositories);
  for (const std::string role : {"api", "cell"}) {
    INFO("role " << role);
    REQUIRE(simulated.count(role));
    REQUIRE(simulated.at(role).known());
    CHECK(differences(load_model(root / "model" / (role + ".yaml")), simulated.at(role).schema) == "");
  }
}

TEST_CASE("simulation: a rolling window holds its expand's additions and what its contract still removes") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "nickname",
                unit_with("  - add_column: {table: accounts, column: {name: nickname, type: text}}\n"), "",
                unit_with("  - drop_column: {table: accounts, column: email}\n"));
  const Repositories repositories = load_repositories_or_throw(dir.path());
  auto columns = [&](SchemaState state) {
    const auto simulated = simulate_history(repositories, state);
    std::string names;
    for (const auto& column : simulated.at("main").schema.find_table("accounts")->columns)
      names += column.name + " ";
    return names;
  };
  CHECK(columns({1, 1}) == "id email ");
  CHECK(columns({2, 1}) == "id email nickname ");
  CHECK(columns({2, 2}) == "id nickname ");
}

TEST_CASE("simulation: raw SQL leaves its role unknown from that operation on, naming it") {
  TempDir dir;
  write_clean_history(dir.path());
  write_version(dir.path(), "002", "audit",
                unit_with("  - sql: {sqlite: \"CREATE TABLE audit (id integer)\", abort: \"DROP TABLE audit\"}\n"), "", "");
  const Repositories repositories = load_repositories_or_throw(dir.path());
  CHECK(simulate_history(repositories, SchemaState{1, 1}).at("main").known());
  const auto simulated = simulate_history(repositories).at("main");
  CHECK_FALSE(simulated.known());
  REQUIRE(simulated.unknown_since);
  CHECK(contains(*simulated.unknown_since, "expand_repo/002_audit.yaml:3"));
}
