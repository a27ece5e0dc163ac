#include "support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

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

namespace {

pid_t start(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env,
            const fs::path& out, const fs::path& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(127);
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    const int in_fd = open("/dev/null", O_RDONLY);
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> argv;
    std::string binary = TANDEM_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (auto& arg : copies) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

int wait_for(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

Result run_tandem(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env) {
  TempDir capture;
  const pid_t pid = start(args, fs::absolute(cwd), env, capture / "out", capture / "err");
  Result result;
  result.exit_code = wait_for(pid);
  result.out = read_file(capture / "out");
  result.err = read_file(capture / "err");
  return result;
}

int spawn_tandem(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env) {
  static int counter = 0;
  ++counter;
  return start(args, fs::absolute(cwd), env, cwd / ("spawn" + std::to_string(counter) + ".out"),
               cwd / ("spawn" + std::to_string(counter) + ".err"));
}

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
