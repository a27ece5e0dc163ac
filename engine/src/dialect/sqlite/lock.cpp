// The SQLite run lock: an exclusive flock on a file beside the database, never a
// long write transaction, so the application keeps writing while tandem runs. The
// holder writes who it is into the file for a waiting run to show.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <thread>

#include "dialect/sqlite/sqlite.h"
#include "tandem/error.h"

namespace tandem::sqlite {

namespace {

class FileLock final : public RunLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() override {
    if (ftruncate(fd_, 0) != 0) {
      // Only the holder description is lost; the lock itself goes with close().
    }
    flock(fd_, LOCK_UN);
    close(fd_);
  }

 private:
  int fd_;
};

class NoLock final : public RunLock {};

std::string read_holder(int fd) {
  char buffer[512];
  const ssize_t size = pread(fd, buffer, sizeof buffer - 1, 0);
  return size > 0 ? std::string(buffer, static_cast<size_t>(size)) : "unknown";
}

}  // namespace

std::unique_ptr<RunLock> SqliteConnection::lock(std::chrono::seconds wait, const std::string& holder) {
  if (url_.is_memory()) return std::make_unique<NoLock>();
  const std::string path = url_.database + ".tandem-lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorKind::unreachable, fmt::format("cannot open lock file {}", path));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string current = read_holder(fd);
      close(fd);
      throw Error(ErrorKind::lock_held,
                  fmt::format("another tandem run holds the lock on {} ({}); waited {}s (raise --wait to wait longer)",
                              url_.redacted(), current, wait.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (ftruncate(fd, 0) != 0 || pwrite(fd, holder.data(), holder.size(), 0) < 0) {
    // The lock is held either way; a waiter just sees no description.
  }
  return std::make_unique<FileLock>(fd);
}

}  // namespace tandem::sqlite
