// The tandem command line: one file per command, all sharing these options. Errors
// are thrown as tandem::Error and turned into a message and exit code in main.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tandem/deployment.h"
#include "tandem/engine.h"

namespace tandem::cli {

enum class Format { text, json, github, yaml };

struct CommandLine {
  std::string command;
  std::vector<std::string> arguments;  // positional words after the command
  std::optional<std::string> db;
  std::optional<std::string> config;
  std::optional<std::string> repos;
  std::optional<long long> to;
  bool dry_run = false;
  Format format = Format::text;
  bool verbose = false;
  bool no_progress = false;
  int wait_seconds = 0;
  int lock_timeout_ms = 500;
  int lock_retries = 10;
  std::optional<std::string> database_role;
  std::optional<std::string> cell;
  bool check = false;
  std::optional<std::string> model;      // --model DIR (compare, verify, new --from-model)
  bool from_model = false;               // new --from-model
  std::optional<std::string> dev_db;     // --dev-db URL (verify, baseline)
  std::optional<std::string> max_rows;   // --max-rows N (archive); validated by the command
  std::optional<std::string> before;     // --before DATE (archive, purge); validated by the command
  bool until_complete = false;           // archive
  bool purge_too = false;                // archive --purge
  bool all = false;                      // purge --all
  int sleep_ms = 0;                      // --sleep MS between batches (migrate, archive)
  std::optional<int> batch_size;         // migrate; else each operation's batch:, else 1000
  int jobs = 1;                          // cells at once
  std::optional<int> batch_time_ms;      // migrate: adapt batches toward this duration
  std::optional<long long> max_count;    // migrate: at most this many rows this run
  std::optional<long long> serves;       // status --serves N
  bool ignore_releases = false;          // contract, abort
  std::optional<std::string> service;    // release register
  std::optional<long long> release;      // release register
  std::optional<std::string> instance;   // release register
  std::optional<int> ttl_seconds;        // release register
  std::optional<int> every_seconds;      // release register --every

  // The deployment from --db, --config, ./tandem.yaml or TANDEM_DATABASE_URL, in that order.
  Deployment deployment() const;
  std::filesystem::path repos_folder() const;
  RunOptions run_options() const;
};

int run_check(const CommandLine& line);
int run_new(const CommandLine& line);
int run_phase(const CommandLine& line);  // expand, migrate, contract, upgrade
int run_status(const CommandLine& line);
int run_history(const CommandLine& line);
int run_repair(const CommandLine& line);
int run_abort(const CommandLine& line);
int run_release(const CommandLine& line);  // register, list, forget
int run_inspect(const CommandLine& line);
int run_compare(const CommandLine& line);
int run_verify(const CommandLine& line);
int run_baseline(const CommandLine& line);  // baseline N
int run_archive(const CommandLine& line);
int run_purge(const CommandLine& line);
int run_completion(const CommandLine& line);  // completion bash: the script to source

}  // namespace tandem::cli
