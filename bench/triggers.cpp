// What tandem's sync_column triggers cost the application's UPDATEs, on MariaDB and
// PostgreSQL, over one table of `rows` rows (bigint key, two varchar(64) columns that
// sync_column keeps in step, one int column no trigger syncs), each figure beside its limit:
//
//   unsynced  UPDATE of the int column under tandem's triggers, beside the same UPDATE
//             under an empty BEFORE UPDATE trigger (PostgreSQL: an empty BEFORE UPDATE OF
//             the synced columns, as tandem's is), since MySQL fires every row trigger.
//             Goal: MariaDB <= 1.1x; PostgreSQL stays at about 1.0x.
//   synced    UPDATE of the old column (the trigger copies it to the new one) beside the
//             same UPDATE writing both columns with no trigger. Goal: <= 1.3x.
//
// The triggers are the ones `tandem expand` installs; the runs alternate between the
// three trigger set-ups (none, empty, tandem's) round by round, and each figure is the
// median of its rounds, so a machine busy with something else weighs on all of them alike.
//
//   bench/triggers.sh [rows] [rounds]     (starts private servers; prints the table)
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "dialect/dialect.h"
#include "run_tandem.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr double kUnsyncedGoal = 1.1;  // MariaDB; PostgreSQL's is where it is, about 1.0
constexpr double kSyncedGoal = 1.3;

struct Server {
  std::string dialect;  // "mariadb", "postgresql"
  bool postgresql() const { return dialect == "postgresql"; }
};

// Each UPDATE starts once the one before is cleaned up (MariaDB's purge of its undo
// records, PostgreSQL's dead rows), so none pays for another.
double seconds(Connection& db, const Server& server, const std::string& sql) {
  db.execute(server.postgresql() ? "VACUUM t" : "SET GLOBAL innodb_max_purge_lag_wait = 0");
  const auto start = Clock::now();
  db.execute(sql);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::vector<std::string> trigger_names(Connection& db, const Server& server) {
  std::vector<std::string> names;
  const char* sql = server.postgresql()
                        ? "SELECT tgname FROM pg_trigger WHERE tgrelid = 't'::regclass AND NOT tgisinternal"
                        : "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "
                          "AND EVENT_OBJECT_TABLE = 't'";
  for (const auto& row : db.query(sql)) names.push_back(*row[0]);
  return names;
}

// One set of triggers on t at a time. PostgreSQL keeps them all and enables one set (its
// trigger definitions do not always read back: ROW(x) *<> ROW(y)); MySQL has no disabled
// trigger, so its sets are dropped and created again from what SHOW CREATE TRIGGER said.
class TriggerSets {
 public:
  TriggerSets(Connection& db, const Server& server) : db_(db), server_(server) {}

  // The triggers on t that no set holds yet become set `name`.
  void adopt(const std::string& name) {
    for (const auto& trigger : trigger_names(db_, server_)) {
      if (server_.postgresql() && std::any_of(sets_.begin(), sets_.end(), [&](const auto& set) {
            return std::count(set.second.begin(), set.second.end(), trigger) > 0;
          }))
        continue;
      sets_[name].push_back(server_.postgresql() ? trigger
                                                 : *db_.query("SHOW CREATE TRIGGER `" + trigger + "`").at(0).at(2));
    }
    if (sets_[name].empty()) throw std::runtime_error("no trigger on t for " + name + " on " + server_.dialect);
    if (!server_.postgresql())
      for (const auto& trigger : trigger_names(db_, server_)) db_.execute("DROP TRIGGER `" + trigger + "`");
  }

  // Only set `name` on t; "" for none.
  void use(const std::string& name) {
    if (server_.postgresql()) {
      db_.execute("ALTER TABLE t DISABLE TRIGGER USER");
      if (!name.empty())
        for (const auto& trigger : sets_.at(name)) db_.execute("ALTER TABLE t ENABLE TRIGGER \"" + trigger + "\"");
      return;
    }
    for (const auto& trigger : trigger_names(db_, server_)) db_.execute("DROP TRIGGER `" + trigger + "`");
    if (!name.empty())
      for (const auto& statement : sets_.at(name)) db_.execute(statement);
  }

 private:
  Connection& db_;
  const Server& server_;
  std::map<std::string, std::vector<std::string>> sets_;
};

struct Figures {
  double unsynced_empty = 0, unsynced_tandem = 0, synced_both = 0, synced_tandem = 0;
};

Figures measure(const std::string& url, const Server& server, const std::string& binary, int rows, int rounds) {
  auto db = connect(DatabaseUrl::parse(url));
  const std::string options = server.postgresql() ? "" : " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
  db->execute("CREATE TABLE t (id bigint PRIMARY KEY, name varchar(64), full_name varchar(64), "
              "other int NOT NULL DEFAULT 0)" + options);
  db->execute(server.postgresql()
                  ? fmt::format("INSERT INTO t SELECT g, 'name ' || g, 'name ' || g, 0 FROM generate_series(1, {}) g",
                                rows)
                  : fmt::format("INSERT INTO t SELECT seq, CONCAT('name ', seq), CONCAT('name ', seq), 0 "
                                "FROM seq_1_to_{}",
                                rows));
  if (server.postgresql()) db->execute("VACUUM ANALYZE t");

  const fs::path repos = fs::temp_directory_path() / fmt::format("bench_triggers_{}_{}", getpid(), server.dialect);
  write(repos / "expand_repo" / "001_sync.yaml",
        "description: full_name follows name\noperations:\n"
        "  - sync_column: {table: t, old: name, new: full_name}\n");
  write(repos / "data_migration_repo" / "001_sync.yaml", "description: nothing\noperations: []\n");
  write(repos / "contract_repo" / "001_sync.yaml", "description: nothing\noperations: []\n");
  const int code = run_tandem(binary, {"expand", "--db", url, "--repos", repos.string()}, nullptr, true);
  fs::remove_all(repos);
  if (code != 0) throw std::runtime_error(fmt::format("tandem expand failed (exit {}) on {}", code, server.dialect));
  TriggerSets sets(*db, server);
  sets.adopt("tandem");
  if (server.postgresql()) {
    db->execute("CREATE FUNCTION bench_empty() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$");
    db->execute("CREATE TRIGGER bench_empty BEFORE UPDATE OF name, full_name ON t FOR EACH ROW "
                "EXECUTE FUNCTION bench_empty()");
  } else {
    db->execute("CREATE TRIGGER bench_empty BEFORE UPDATE ON t FOR EACH ROW BEGIN END");
  }
  sets.adopt("empty");

  const std::string unsynced = "UPDATE t SET other = other + 1";
  auto renamed = [&](int round, bool both) {
    const std::string value = server.postgresql() ? fmt::format("'r{} ' || id", round)
                                                  : fmt::format("CONCAT('r{} ', id)", round);
    return "UPDATE t SET name = " + value + (both ? ", full_name = " + value : "");
  };
  std::vector<double> unsynced_empty, unsynced_tandem, synced_both, synced_tandem;
  int round_value = 0;
  for (int round = 0; round <= rounds; ++round) {  // round 0 warms up and is not counted
    const bool counted = round > 0;
    sets.use("");
    const double both = seconds(*db, server, renamed(++round_value, true));
    sets.use("empty");
    const double under_empty = seconds(*db, server, unsynced);
    sets.use("tandem");
    const double under_tandem = seconds(*db, server, unsynced);
    const double copied = seconds(*db, server, renamed(++round_value, false));
    if (!counted) continue;
    synced_both.push_back(both);
    unsynced_empty.push_back(under_empty);
    unsynced_tandem.push_back(under_tandem);
    synced_tandem.push_back(copied);
  }
  // The triggers did their job: the last synced UPDATE reached full_name.
  const auto behind = db->query(server.postgresql() ? "SELECT count(*) FROM t WHERE full_name IS DISTINCT FROM name"
                                                     : "SELECT count(*) FROM t WHERE NOT (full_name <=> name)");
  if (behind.at(0).at(0) != "0")
    throw std::runtime_error(fmt::format("{} rows of t were not synced on {}", *behind[0][0], server.dialect));
  return {median(unsynced_empty), median(unsynced_tandem), median(synced_both), median(synced_tandem)};
}

}  // namespace

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 300000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  const char* binary = std::getenv("TANDEM");
  if (!binary || rows < 1 || rounds < 1) {
    std::cerr << "usage: TANDEM=path/to/tandem bench_triggers [rows] [rounds]   (see bench/triggers.sh)\n";
    return 64;
  }
  std::cout << fmt::format("sync_column triggers on one table of {} rows, median of {} rounds\n\n", rows, rounds);
  std::cout << fmt::format("{:<11} {:<9} {:>10} {:>10} {:>8} {:>8}  {}\n", "server", "update", "tandem s", "limit s",
                           "ratio", "goal", "limit");
  int status = 0;
  try {
    for (const auto& [dialect, variable] : {std::pair{"mariadb", "TANDEM_TEST_MYSQL_URL"},
                                            std::pair{"postgresql", "TANDEM_TEST_POSTGRESQL_URL"}}) {
      const Server server{dialect};
      const char* admin_url = std::getenv(variable);
      if (!admin_url) {
        std::cout << fmt::format("{:<11} skipped: {} not set (run bench/triggers.sh)\n", dialect, variable);
        continue;
      }
      const std::string database = fmt::format("bench_triggers_{}", getpid());
      auto admin = connect(DatabaseUrl::parse(admin_url));
      admin->execute("DROP DATABASE IF EXISTS " + database);
      admin->execute("CREATE DATABASE " + database);
      const std::string url = std::string(admin_url).substr(0, std::string(admin_url).rfind('/') + 1) + database;
      Figures figures;
      try {
        figures = measure(url, server, binary, rows, rounds);
      } catch (...) {
        admin->execute("DROP DATABASE IF EXISTS " + database);
        throw;
      }
      admin->execute("DROP DATABASE IF EXISTS " + database);
      auto line = [&](const char* update, double tandem, double limit, double goal, const char* what) {
        const double ratio = tandem / limit;
        const bool met = goal <= 0 || ratio <= goal;
        if (!met) status = 1;
        std::cout << fmt::format("{:<11} {:<9} {:>10.3f} {:>10.3f} {:>7.2f}x {:>8}  {}\n", dialect, update, tandem,
                                 limit, ratio,
                                 goal <= 0 ? "~1.0x" : met ? fmt::format("<={:.1f}x", goal) : "MISSED", what);
      };
      line("unsynced", figures.unsynced_tandem, figures.unsynced_empty, server.postgresql() ? 0 : kUnsyncedGoal,
           server.postgresql() ? "same UPDATE, empty BEFORE UPDATE OF trigger" : "same UPDATE, empty BEFORE UPDATE trigger");
      line("synced", figures.synced_tandem, figures.synced_both, kSyncedGoal, "UPDATE of both columns, no trigger");
    }
  } catch (const std::exception& error) {
    std::cerr << "bench_triggers: " << error.what() << "\n";
    status = 2;
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) std::cout << fmt::format("\nload average {:.2f} {:.2f} {:.2f}\n", load[0], load[1], load[2]);
  return status;
}
