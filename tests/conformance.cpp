#include "conformance.h"

namespace tandem::test {

namespace {

class SqliteScratch final : public ScratchDatabase {
 public:
  std::string url() const override { return dir_.sqlite_url("scratch.db"); }
  std::string dialect() const override { return "sqlite"; }

 private:
  TempDir dir_;
};

}  // namespace

std::vector<std::unique_ptr<ScratchDatabase>> scratch_databases() {
  std::vector<std::unique_ptr<ScratchDatabase>> databases;
  databases.push_back(std::make_unique<SqliteScratch>());
  return databases;
}

Result run_phase(const std::string& command, const std::string& url, const std::filesystem::path& repos,
                 const std::vector<std::string>& extra) {
  std::vector<std::string> args = {command, "--db", url, "--repos", repos.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_tandem(args, repos);
}

std::vector<std::string> query_rows(const std::string& url, const std::string& sql) {
  auto connection = connect(DatabaseUrl::parse(url));
  std::vector<std::string> out;
  for (const auto& row : connection->query(sql)) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i ? "|" : "") + row[i].value_or("NULL");
    out.push_back(line);
  }
  return out;
}

void execute(const std::string& url, const std::string& sql) { connect(DatabaseUrl::parse(url))->execute(sql); }

schema::Schema snapshot(const std::string& url) { return connect(DatabaseUrl::parse(url))->snapshot(); }

}  // namespace tandem::test
