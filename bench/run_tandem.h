// Runs the tandem binary for a benchmark, its output hidden (BENCH_VERBOSE=1 shows it) or
// captured into `output`; returns its exit code (128 when it did not exit).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

inline int run_tandem(const std::string& binary, const std::vector<std::string>& args, std::string* output = nullptr,
                      bool hide_errors = false) {
  std::cout << std::flush;  // else the child writes our buffered lines a second time
  int pipe_ends[2] = {-1, -1};
  if (output && pipe(pipe_ends) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    if (output) {
      dup2(pipe_ends[1], STDOUT_FILENO);
      close(pipe_ends[0]);
      close(pipe_ends[1]);
    } else if (!std::getenv("BENCH_VERBOSE")) {
      if (!freopen("/dev/null", "w", stdout) || (hide_errors && !freopen("/dev/null", "w", stderr))) _exit(126);
    }
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  if (output) {
    close(pipe_ends[1]);
    char buffer[4096];
    for (ssize_t n; (n = read(pipe_ends[0], buffer, sizeof buffer)) > 0;) output->append(buffer, static_cast<size_t>(n));
    close(pipe_ends[0]);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
