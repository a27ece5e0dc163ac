#include "support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tandem::test {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool has_line_with(const std::string& text, std::initializer_list<std::string> parts) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool all = true;
    for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

TempDir::TempDir() {
  std::random_device random;
  path_ = fs::temp_directory_path() / ("tandem-test-" + std::to_string(getpid()) + "-" + std::to_string(random()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_version(const fs::path& root, const std::string& version, const std::string& name, const std::string& expand,
                   const std::string& migrate, const std::string& contract) {
  const std::string placeholder = "description: nothing in this phase\noperations: []\n";
  write_file(root / "expand_repo" / (version + "_" + name + ".yaml"), expand.empty() ? placeholder : expand);
  write_file(root / "data_migration_repo" / (version + "_" + name + ".yaml"), migrate.empty() ? placeholder : migrate);
  write_file(root / "contract_repo" / (version + "_" + name + ".yaml"), contract.empty() ? placeholder : contract);
}

const char* const kCreateAccounts = R"Y(description: accounts
operations:
  - create_table:
      name: accounts
      columns:
        - {name: id, type: integer, primary_key: true}
        - {name: email, type: string(255)}
)Y";

void write_clean_history(const fs::path& root) { write_version(root, "001", "accounts", kCreateAccounts, "", ""); }

std::string unit_with(const std::string& operations) { return "description: change\noperations:\n" + operations; }

namespace {

// NAME=value strings: this process's environment with `overrides` applied.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry; ++entry) {
    const std::string text = *entry;
    if (!overrides.count(text.substr(0, text.find('=')))) entries.push_back(text);
  }
  for (const auto& [key, value] : overrides) entries.push_back(key + "=" + value);
  return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& text : strings) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// Owns a posix_spawn_file_actions_t.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

int spawn_process(const std::vector<std::string>& argv, const fs::path& cwd, const std::map<std::string, std::string>& env,
                  const fs::path& out, const fs::path& err) {
  if (argv.empty()) throw std::runtime_error("spawn_process: no program given");
  std::vector<std::string> arguments = argv, environment = environment_with(env);
  std::vector<char*> arg_pointers = pointers(arguments), env_pointers = pointers(environment);
  // Absolute: the child changes directory before it opens them.
  const std::string out_path = fs::absolute(out).string(), err_path = fs::absolute(err).string();
  const std::string directory = fs::absolute(cwd).string();
  FileActions actions;
  int failed = posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  if (!failed) failed = posix_spawn_file_actions_addopen(actions.get(), 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!failed) failed = posix_spawn_file_actions_addopen(actions.get(), 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!failed) failed = posix_spawn_file_actions_addchdir_np(actions.get(), directory.c_str());
  if (failed) throw std::runtime_error("spawn_process: cannot set up file actions: " + std::string(std::strerror(failed)));
  pid_t pid = 0;
  const auto spawn = argv.front().find('/') == std::string::npos ? posix_spawnp : posix_spawn;
  failed = spawn(&pid, arguments.front().c_str(), actions.get(), nullptr, arg_pointers.data(), env_pointers.data());
  if (failed)
    throw std::runtime_error("cannot run " + argv.front() + " (is it installed?): " + std::string(std::strerror(failed)));
  return pid;
}

int wait_for(int pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

Result run_process(const std::vector<std::string>& argv, const fs::path& cwd, const std::map<std::string, std::string>& env) {
  TempDir capture;
  Result result;
  result.exit_code = wait_for(spawn_process(argv, cwd, env, capture / "out", capture / "err"));
  result.out = read_file(capture / "out");
  result.err = read_file(capture / "err");
  return result;
}

namespace {

std::vector<std::string> tandem_command(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TANDEM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

Result run_tandem(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env) {
  return run_process(tandem_command(args), cwd, env);
}

int spawn_tandem(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env) {
  static std::atomic<int> counter = 0;
  const int number = ++counter;
  return spawn_process(tandem_command(args), cwd, env, cwd / ("spawn" + std::to_string(number) + ".out"),
                       cwd / ("spawn" + std::to_string(number) + ".err"));
}

std::string spawned_stderr(const fs::path& cwd) {
  std::string err;
  for (const auto& entry : fs::directory_iterator(cwd))
    if (entry.path().extension() == ".err") err += read_file(entry.path());
  return err;
}

std::map<std::string, std::string> FailpointHold::environment(const std::string& point) const {
  return {{"TANDEM_FAILPOINT", point}, {"TANDEM_FAILPOINT_HOLD", fs::absolute(base_).string()}};
}

bool FailpointHold::wait_reached(int pid) const {
  const fs::path reached = base_.string() + ".reached";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(reached)) return true;
    // WNOWAIT: whether it ended, leaving it to wait_for to reap.
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void FailpointHold::release() const { write_file(base_.string() + ".go", ""); }

Sqlite::Sqlite(const fs::path& file) {
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
  sqlite3_busy_timeout(db_, 10000);
}

Sqlite::~Sqlite() { sqlite3_close(db_); }

void Sqlite::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error(text);
  }
}

std::vector<std::string> Sqlite::rows(const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK)
    throw std::runtime_error(sqlite3_errmsg(db_));
  std::vector<std::string> out;
  while (sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      if (i) row += "|";
      const auto* text = sqlite3_column_text(statement, i);
      row += text ? reinterpret_cast<const char*>(text) : "NULL";
    }
    out.push_back(row);
  }
  sqlite3_finalize(statement);
  return out;
}

std::string Sqlite::value(const std::string& sql) {
  auto all = rows(sql);
  if (all.empty()) return "";
  return all.front().substr(0, all.front().find('|'));
}

std::string Sqlite::schema_dump() {
  std::string dump;
  for (const auto& row : rows("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")) dump += row + "\n";
  return dump;
}

}  // namespace tandem::test
