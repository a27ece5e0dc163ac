// Test helpers: temporary folders, unit repositories on disk, running the real
// `tandem` binary, and reading SQLite databases directly (never mocked).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tandem::test {

// Whether `text` holds `part`.
bool contains(const std::string& text, const std::string& part);
// Whether one line of `text` holds every one of `parts`: a finding names its file,
// code and version together, not scattered over the output.
bool has_line_with(const std::string& text, std::initializer_list<std::string> parts);

// A fresh folder under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // "sqlite:///<dir>/<name>"
  std::string sqlite_url(const std::string& name) const { return "sqlite://" + (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

// Writes `expand`, `migrate` and `contract` as version `version` (e.g. "001") named
// `name` into the three repositories under `root`. An empty text means a placeholder.
void write_version(const std::filesystem::path& root, const std::string& version, const std::string& name,
                   const std::string& expand, const std::string& migrate, const std::string& contract);

// An expand unit creating accounts (id integer primary key, email string(255)) on the
// main database, and a history whose only version, 001, is it: it passes check, so
// findings come from what a test adds.
extern const char* const kCreateAccounts;
void write_clean_history(const std::filesystem::path& root);
// A unit's text: a description, then `operations` (YAML list items, two spaces in).
std::string unit_with(const std::string& operations);

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

// The one way tests start a program, safe while other threads run (writers, an
// application thread): posix_spawn, with the argument vector, the environment and the
// file actions all built before the child exists, so the child only execs. stdin is
// /dev/null; stdout and stderr go to `out` and `err`. `program` without a '/' is looked
// up in PATH; `env` adds to (or replaces in) this process's environment. Returns the
// child's pid; throws std::runtime_error naming the program when it cannot start.
int spawn_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                  const std::map<std::string, std::string>& env, const std::filesystem::path& out,
                  const std::filesystem::path& err);
// Runs `argv` as spawn_process does, waits, and returns its exit code and output.
Result run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd = ".",
                   const std::map<std::string, std::string>& env = {});

// Runs the tandem binary with `args` in `cwd`; `env` adds environment variables.
Result run_tandem(const std::vector<std::string>& args, const std::filesystem::path& cwd = ".",
                  const std::map<std::string, std::string>& env = {});

// Starts tandem in the background; returns its pid (output goes to files in `cwd`).
int spawn_tandem(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                 const std::map<std::string, std::string>& env = {});
// Waits for a spawned process; returns its exit code, or -signal when killed.
int wait_for(int pid);
// What the runs spawn_tandem started in `cwd` wrote to stderr (its spawnN.err files).
std::string spawned_stderr(const std::filesystem::path& cwd);

// A hold_ fail-point (TANDEM_FAILPOINT, engine/src/run/failpoint.h) seen from a test: the
// environment that arms it, a wait until the run stands there, and its release. Released
// when the object goes away too, so a failed test leaves no run waiting.
class FailpointHold {
 public:
  // `base`: the path the run's <base>.reached and <base>.go files are made of.
  explicit FailpointHold(std::filesystem::path base) : base_(std::move(base)) {}
  ~FailpointHold() { release(); }
  FailpointHold(const FailpointHold&) = delete;
  FailpointHold& operator=(const FailpointHold&) = delete;
  // TANDEM_FAILPOINT=`point` (e.g. "hold_after_step:1") and TANDEM_FAILPOINT_HOLD.
  std::map<std::string, std::string> environment(const std::string& point) const;
  // Waits until the process `pid` stands at the point: false when it ended first, or
  // after a minute.
  bool wait_reached(int pid) const;
  // Lets the run go on.
  void release() const;

 private:
  std::filesystem::path base_;
};

// A direct SQLite connection, for arranging data and checking results.
class Sqlite {
 public:
  explicit Sqlite(const std::filesystem::path& file);
  ~Sqlite();
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;
  // Runs statements; throws std::runtime_error with SQLite's message on failure.
  void exec(const std::string& sql);
  // Rows as text ("NULL" for NULL), columns joined by '|'.
  std::vector<std::string> rows(const std::string& sql);
  // The first column of the first row ("" when no row).
  std::string value(const std::string& sql);
  // The whole schema as text (sqlite_master ordered), to compare before and after.
  std::string schema_dump();

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace tandem::test
