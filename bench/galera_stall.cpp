// How long writers on every node of a MariaDB Galera cluster stall while `tandem expand`
// changes a table of N rows through node 1, beside the same change run naively under TOI
// in the same run (DESIGN §14, issue 13): a table `big` of N rows (bigint key, an int, a
// varchar(40)) made by tandem, and three writers, one per node on its own connection,
// each INSERTing into another table, `pings`, every 5 ms. Measured, one at a time, with
// the writers running:
//
//   create_index  tandem expand of a version adding an index on big(a), with tandem's
//                 default settings, beside `ALTER TABLE big ADD INDEX big_a_naive (a)`
//                 under TOI through node 1;
//   add_column    tandem expand of a version adding a nullable column to big, beside
//                 `ALTER TABLE big ADD COLUMN c_naive int` under TOI through node 1.
//
// A writer's stall is the longer of its slowest INSERT and its longest gap between two
// completed INSERTs less the 5 ms period; goal: under 1000 ms on every node. A figure
// that misses it is a measurement, not an error: the exit code is 0 unless something
// failed (2), or the arguments are wrong (64).
//
// GALERA_DDL=auto|toi|rsu|copy, when set, is passed to tandem as the URL option
// galera_ddl (every tandem run, not the naive ALTERs); unset, tandem chooses.
//
//   bench/galera_stall.sh [rows...]     (starts the private cluster; prints one block per size)
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "dialect/dialect.h"

using namespace tandem;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr auto kPeriod = std::chrono::milliseconds(5);
constexpr double kGoalMs = 1000;
constexpr long kLoadChunk = 100000;  // rows per INSERT ... SELECT: no huge writeset
constexpr auto kAround = std::chrono::milliseconds(500);  // writers run this long before and after the DDL

void progress(const std::string& what) { std::cerr << "galera_stall: " << what << ", writers running\n"; }

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string with_database(const std::string& admin_url, const std::string& database) {
  return admin_url.substr(0, admin_url.rfind('/') + 1) + database;
}

std::string with_option(const std::string& url, const std::string& name, const std::string& value) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + name + "=" + value;
}

std::unique_ptr<Connection> open_session(const std::string& url) { return connect(DatabaseUrl::parse(url)); }

// A session as the application's: tandem's own sessions wait on every statement until
// their node has applied the cluster's earlier commits (wsrep_sync_wait = 15), which an
// application's INSERT does not.
std::unique_ptr<Connection> open_as_application(const std::string& url) {
  auto connection = open_session(url);
  connection->execute("SET SESSION wsrep_sync_wait = 0");
  return connection;
}

struct CliResult {
  int exit_code = 0;
  std::string out, err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs the tandem binary with its stdout and stderr captured (through files in `scratch`).
CliResult run_cli(const std::string& binary, const std::vector<std::string>& args, const fs::path& scratch) {
  const fs::path out = scratch / "tandem.out", err = scratch / "tandem.err";
  std::cout << std::flush;
  std::cerr << std::flush;
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out_fd < 0 || err_fd < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) _exit(126);
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, read_file(out), read_file(err)};
}

// A writer on one node: an INSERT into pings every 5 ms from `go` until `stop`.
class Writer {
 public:
  Writer(int node, const std::string& url) : node_(node), url_(url) {}

  void start(std::atomic<int>& ready, const std::atomic<bool>& go, const std::atomic<bool>& stop) {
    thread_ = std::thread([this, &ready, &go, &stop] { run(ready, go, stop); });
  }
  void join() { thread_.join(); }

  double stall_ms() const {
    return std::max(longest_insert_ms_, longest_gap_ms_ - std::chrono::duration<double, std::milli>(kPeriod).count());
  }
  long inserts() const { return inserts_; }
  long errors() const { return errors_; }
  const std::string& first_error() const { return first_error_; }
  const std::string& setup_error() const { return setup_error_; }

 private:
  void run(std::atomic<int>& ready, const std::atomic<bool>& go, const std::atomic<bool>& stop) {
    std::unique_ptr<Connection> connection;
    try {
      connection = open_as_application(url_);
    } catch (const std::exception& error) {
      setup_error_ = error.what();
    }
    ++ready;
    if (!connection) return;
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::optional<Clock::time_point> last_done;
    while (!stop) {
      const auto started = Clock::now();
      bool done = false;
      try {
        if (!connection) connection = open_as_application(url_);
        connection->update("INSERT INTO pings (node, written_at) VALUES (?, NOW())", {std::to_string(node_)});
        done = true;
      } catch (const std::exception& error) {
        if (errors_++ == 0) first_error_ = error.what();
        connection.reset();  // a fresh session for the next INSERT, in case this one is gone
      }
      const auto finished = Clock::now();
      if (done) {
        longest_insert_ms_ = std::max(longest_insert_ms_, ms_between(started, finished));
        if (last_done) longest_gap_ms_ = std::max(longest_gap_ms_, ms_between(*last_done, finished));
        last_done = finished;
        ++inserts_;
      }
      std::this_thread::sleep_for(kPeriod);
    }
  }

  int node_;
  std::string url_;
  std::thread thread_;
  double longest_insert_ms_ = 0, longest_gap_ms_ = 0;
  long inserts_ = 0, errors_ = 0;
  std::string first_error_, setup_error_;
};

struct Run {
  double wall_s = 0;
  std::vector<double> stall_ms;  // node 1, 2, 3
  std::vector<std::string> notes;  // failed INSERTs, per writer
};

// Runs `ddl` with a writer on every node, from kAround before it until kAround after.
Run with_writers(const std::vector<std::string>& nodes, const std::function<void()>& ddl) {
  std::vector<std::unique_ptr<Writer>> writers;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  for (size_t i = 0; i < nodes.size(); ++i) writers.push_back(std::make_unique<Writer>(static_cast<int>(i + 1), nodes[i]));
  for (auto& writer : writers) writer->start(ready, go, stop);
  while (ready < static_cast<int>(writers.size())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  go = true;
  Run run;
  auto finish = [&] {
    stop = true;
    for (auto& writer : writers) writer->join();
  };
  try {
    std::this_thread::sleep_for(kAround);
    const auto started = Clock::now();
    ddl();
    run.wall_s = ms_between(started, Clock::now()) / 1000;
    std::this_thread::sleep_for(kAround);
  } catch (...) {
    finish();
    throw;
  }
  finish();
  for (size_t i = 0; i < writers.size(); ++i) {
    const Writer& writer = *writers[i];
    if (!writer.setup_error().empty())
      throw std::runtime_error(fmt::format("writer on node {} could not connect: {}", i + 1, writer.setup_error()));
    if (writer.inserts() == 0) throw std::runtime_error(fmt::format("writer on node {} inserted nothing", i + 1));
    run.stall_ms.push_back(writer.stall_ms());
    if (writer.errors() > 0)
      run.notes.push_back(fmt::format("node {} writer: {} failed INSERTs of {} (first: {})", i + 1, writer.errors(),
                                      writer.errors() + writer.inserts(), writer.first_error()));
  }
  return run;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// One version of the repository: `expand` as given, migrate and contract empty.
void write_version(const fs::path& repos, const std::string& name, const std::string& expand) {
  write(repos / "expand_repo" / (name + ".yaml"), expand);
  for (const char* folder : {"data_migration_repo", "contract_repo"})
    write(repos / folder / (name + ".yaml"), "description: nothing in this phase\noperations: []\n");
}

const char* const kTables = R"Y(description: the big table, and the table the writers insert into
operations:
  - create_table:
      name: big
      columns:
        - {name: id, type: bigint, primary_key: true}
        - {name: a, type: integer}
        - {name: b, type: string(40)}
  - create_table:
      name: pings
      columns:
        - {name: id, type: integer, primary_key: true, autoincrement: true}
        - {name: node, type: integer, nullable: false}
        - {name: written_at, type: datetime, nullable: false}
)Y";

const char* const kIndex = R"Y(description: an index on big(a)
operations:
  - create_index: {table: big, name: big_a_idx, columns: [a]}
)Y";

const char* const kColumn = R"Y(description: a nullable column on big
operations:
  - add_column: {table: big, column: {name: c, type: integer}}
)Y";

class Bench {
 public:
  Bench(std::string binary, std::vector<std::string> admin_urls, std::optional<std::string> galera_ddl)
      : binary_(std::move(binary)), admin_urls_(std::move(admin_urls)), galera_ddl_(std::move(galera_ddl)) {}

  void size(long rows) {
    const std::string database = fmt::format("bench_galera_stall_{}_{}", getpid(), rows);
    const fs::path repos = fs::temp_directory_path() / database;
    fs::remove_all(repos);
    auto admin = open_session(admin_urls_.at(0));
    admin->execute("DROP DATABASE IF EXISTS " + database);
    admin->execute("CREATE DATABASE " + database);  // through node 1; replicated to every node
    try {
      measure(rows, database, repos);
    } catch (...) {
      try {
        admin->execute("DROP DATABASE IF EXISTS " + database);
      } catch (const std::exception& error) {
        std::cerr << "galera_stall: could not drop " << database << ": " << error.what() << "\n";
      }
      fs::remove_all(repos);
      throw;
    }
    admin->execute("DROP DATABASE IF EXISTS " + database);
    fs::remove_all(repos);
  }

 private:
  struct Ddl {
    Run tandem, naive;
    std::vector<std::string> method_lines;
  };

  void measure(long rows, const std::string& database, const fs::path& repos) {
    std::vector<std::string> nodes;
    for (const auto& url : admin_urls_) nodes.push_back(with_database(url, database));
    tandem_url_ = galera_ddl_ ? with_option(nodes[0], "galera_ddl", *galera_ddl_) : nodes[0];
    fs::create_directories(repos);

    write_version(repos, "001_tables", kTables);
    upgrade(repos, "001");
    const double load_s = load(nodes, rows);

    Ddl index;
    write_version(repos, "002_big_a_idx", kIndex);
    settle(nodes);
    progress("tandem expand of 002, create_index big(a)");
    index.tandem = with_writers(nodes, [&] { index.method_lines = expand(repos, "002"); });
    finish(repos, "002");
    settle(nodes);
    progress("naive ADD INDEX under TOI");
    index.naive = with_writers(nodes, [&] { naive(nodes[0], "ALTER TABLE big ADD INDEX big_a_naive (a)"); });
    open_session(nodes[0])->execute("ALTER TABLE big DROP INDEX big_a_naive");  // the column runs see one index, tandem's

    Ddl column;
    write_version(repos, "003_big_c", kColumn);
    settle(nodes);
    progress("tandem expand of 003, add_column big.c");
    column.tandem = with_writers(nodes, [&] { column.method_lines = expand(repos, "003"); });
    finish(repos, "003");
    settle(nodes);
    progress("naive ADD COLUMN under TOI");
    column.naive = with_writers(nodes, [&] { naive(nodes[0], "ALTER TABLE big ADD COLUMN c_naive int"); });

    const auto missing = missing_on_nodes(nodes);

    std::cout << fmt::format("\n== big: {} rows (loaded in {:.1f} s), 3 nodes, tandem through node 1, {}\n", rows, load_s,
                             galera_ddl_ ? "galera_ddl=" + *galera_ddl_ : "tandem's default DDL method");
    print("create_index big(a)", "ALTER TABLE big ADD INDEX big_a_naive (a)", index);
    print("add_column big.c", "ALTER TABLE big ADD COLUMN c_naive int", column);
    for (const auto& line : missing) std::cout << "  WARNING: " << line << "\n";
    std::cout << std::flush;
  }

  CliResult tandem(const fs::path& repos, const std::string& phase) {
    return run_cli(binary_, {phase, "--db", tandem_url_, "--repos", repos.string()}, repos);
  }

  void require_ok(const CliResult& result, const std::string& what) {
    if (result.exit_code != 0)
      throw std::runtime_error(fmt::format("{} failed (exit {}):\n{}{}", what, result.exit_code, result.out, result.err));
  }

  // expand of `version`, measured: returns the lines of its output that say how it ran the DDL.
  std::vector<std::string> expand(const fs::path& repos, const std::string& version) {
    const CliResult result = tandem(repos, "expand");
    require_ok(result, "tandem expand of version " + version);
    std::vector<std::string> lines;
    // The run's events (how it built the index among them) and its warnings.
    std::istringstream said(result.out + result.err);
    for (std::string line; std::getline(said, line);) {
      std::string lower = line;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (line.find("Galera") != std::string::npos || line.find("RSU") != std::string::npos ||
          line.find("TOI") != std::string::npos || lower.find("copy") != std::string::npos)
        lines.push_back(line);
    }
    return lines;
  }

  void finish(const fs::path& repos, const std::string& version) {
    for (const char* phase : {"migrate", "contract"})
      require_ok(tandem(repos, phase), fmt::format("tandem {} of version {}", phase, version));
  }

  void upgrade(const fs::path& repos, const std::string& version) {
    for (const char* phase : {"expand", "migrate", "contract"})
      require_ok(tandem(repos, phase), fmt::format("tandem {} of version {}", phase, version));
  }

  static void naive(const std::string& url, const std::string& sql) {
    auto connection = open_as_application(url);
    connection->execute("SET SESSION wsrep_OSU_method = 'TOI'");
    connection->execute(sql);
  }

  // Fills big through node 1 in chunks from MariaDB's sequence engine, then waits until
  // every node holds all of it.
  static double load(const std::vector<std::string>& nodes, long rows) {
    const auto started = Clock::now();
    auto connection = open_as_application(nodes[0]);
    auto elapsed = [&] { return ms_between(started, Clock::now()) / 1000; };
    for (long first = 1; first <= rows; first += kLoadChunk) {
      const long last = std::min(rows, first + kLoadChunk - 1);
      connection->execute(fmt::format(
          "INSERT INTO big (id, a, b) SELECT seq, (seq * 7919) % 1000003, SHA1(seq) FROM seq_{}_to_{}", first, last));
      if (last == rows || last % 1000000 == 0)
        std::cerr << fmt::format("galera_stall: loaded {} of {} rows through node 1 ({:.1f} s)\n", last, rows, elapsed());
    }
    const auto deadline = Clock::now() + std::chrono::minutes(30);
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto node = open_session(nodes[i]);  // tandem's session: waits until the node has applied what came before
      for (;;) {
        const long count = std::stol(node->query("SELECT count(*) FROM big").at(0).at(0).value_or("0"));
        if (count == rows) break;
        if (Clock::now() > deadline)
          throw std::runtime_error(fmt::format("node {} holds {} rows of big, not {}, after 30 minutes", i + 1, count, rows));
        std::cerr << fmt::format("galera_stall: node {} holds {} of {} rows, waiting\n", i + 1, count, rows);
        std::this_thread::sleep_for(std::chrono::seconds(2));
      }
      std::cerr << fmt::format("galera_stall: node {} holds all {} rows ({:.1f} s)\n", i + 1, rows, elapsed());
    }
    return elapsed();
  }

  // Each node has applied everything committed before, and the cluster is Synced with no
  // flow control: no run starts behind the one before.
  static void settle(const std::vector<std::string>& nodes) {
    for (const auto& url : nodes) {
      auto node = open_session(url);
      for (int attempt = 0;; ++attempt) {
        std::map<std::string, std::string> status;
        for (const auto& row : node->query("SHOW STATUS LIKE 'wsrep_%'")) status[row.at(0).value_or("")] = row.at(1).value_or("");
        if (status["wsrep_local_state_comment"] == "Synced" && status["wsrep_flow_control_active"] != "true" &&
            status["wsrep_local_recv_queue"] == "0")
          break;
        if (attempt == 600) throw std::runtime_error("node " + url + " did not settle in 60 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  // What tandem added and no node lacks: an RSU run that skipped a node would show here.
  static std::vector<std::string> missing_on_nodes(const std::vector<std::string>& nodes) {
    std::vector<std::string> missing;
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto node = open_session(nodes[i]);
      if (node->query("SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND "
                      "TABLE_NAME = 'big' AND INDEX_NAME = 'big_a_idx'").empty())
        missing.push_back(fmt::format("node {} has no index big_a_idx", i + 1));
      if (node->query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                      "TABLE_NAME = 'big' AND COLUMN_NAME = 'c'").empty())
        missing.push_back(fmt::format("node {} has no column big.c", i + 1));
    }
    return missing;
  }

  static std::string ratio(double tandem, double naive) {
    return naive > 0 ? fmt::format("{:.2f}x", tandem / naive) : "-";
  }

  static void print(const std::string& title, const std::string& naive_sql, const Ddl& ddl) {
    std::cout << fmt::format("\n{}   (naive: {} under TOI through node 1)\n", title, naive_sql);
    std::cout << fmt::format("  {:<16} {:>10} {:>13} {:>8}   {}\n", "", "tandem", "naive TOI", "ratio", "goal");
    std::cout << fmt::format("  {:<16} {:>9.2f}s {:>12.2f}s {:>8}\n", "wall time", ddl.tandem.wall_s, ddl.naive.wall_s,
                             ratio(ddl.tandem.wall_s, ddl.naive.wall_s));
    for (size_t i = 0; i < ddl.tandem.stall_ms.size(); ++i) {
      const double tandem = ddl.tandem.stall_ms[i], naive = ddl.naive.stall_ms[i];
      std::cout << fmt::format("  {:<16} {:>8.0f}ms {:>11.0f}ms {:>8}   < {:.0f} ms {}\n",
                               fmt::format("node {} stall", i + 1), tandem, naive, ratio(tandem, naive), kGoalMs,
                               tandem < kGoalMs ? "PASS" : "FAIL");
    }
    for (const auto& note : ddl.tandem.notes) std::cout << "  tandem run, " << note << "\n";
    for (const auto& note : ddl.naive.notes) std::cout << "  naive run, " << note << "\n";
    if (ddl.method_lines.empty())
      std::cout << "  tandem said: no line mentions Galera, RSU, TOI or copy\n";
    for (const auto& line : ddl.method_lines) std::cout << "  tandem said: " << line << "\n";
  }

  std::string binary_;
  std::vector<std::string> admin_urls_;
  std::optional<std::string> galera_ddl_;
  std::string tandem_url_;  // node 1's, with galera_ddl when GALERA_DDL is set
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> sizes;
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    const long rows = std::strtol(argv[i], &end, 10);
    if (*end != '\0' || rows < 1) {
      std::cerr << "bench_galera_stall: rows must be a positive number, not '" << argv[i] << "'\n";
      return 64;
    }
    sizes.push_back(rows);
  }
  if (sizes.empty()) sizes.push_back(1000000);
  const char* binary = std::getenv("TANDEM");
  const char* urls = std::getenv("TANDEM_TEST_GALERA_URLS");
  if (!binary || !urls) {
    std::cerr << "usage: TANDEM=path/to/tandem TANDEM_TEST_GALERA_URLS=url1,url2,url3 bench_galera_stall [rows...]"
                 "   (see bench/galera_stall.sh)\n";
    return 64;
  }
  std::vector<std::string> admin_urls;
  std::stringstream list(urls);
  for (std::string url; std::getline(list, url, ',');) admin_urls.push_back(url);
  if (admin_urls.size() != 3) {
    std::cerr << "bench_galera_stall: TANDEM_TEST_GALERA_URLS holds " << admin_urls.size() << " URLs, not 3\n";
    return 64;
  }
  std::optional<std::string> galera_ddl;
  if (const char* method = std::getenv("GALERA_DDL"); method && *method) galera_ddl = method;

  std::cout << "Galera write stalls: a writer on each of 3 nodes INSERTs into pings every 5 ms while a table of N rows\n"
               "is changed through node 1. Stall: the longer of a writer's slowest INSERT and its longest gap between\n"
               "two completed INSERTs less 5 ms. Goal: tandem's under 1000 ms on every node.\n";
  try {
    Bench bench(binary, admin_urls, galera_ddl);
    for (const long rows : sizes) bench.size(rows);
  } catch (const std::exception& error) {
    std::cout << std::flush;
    std::cerr << "bench_galera_stall: " << error.what() << "\n";
    return 2;
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3) std::cout << fmt::format("\nload average {:.2f} {:.2f} {:.2f}\n", load[0], load[1], load[2]);
  return 0;
}
