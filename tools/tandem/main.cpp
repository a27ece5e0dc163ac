// tandem: zero-downtime schema upgrades in three phases. The one place where errors
// become messages and exit codes.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <map>

#include "cli.h"
#include "tandem/error.h"
#include "tandem/version.h"

namespace po = boost::program_options;
using tandem::Error;
using tandem::ErrorKind;

namespace {

constexpr const char* kUsage = R"(usage: tandem COMMAND [options]

Commands:
  new NAME            add the next version to all three repositories (placeholders);
                      --from-model: the units that take the history to the model
                      (--model DIR, --dry-run prints them)
  check               check repositories: alignment, phase rules, online-safety lint
  status [--check]    how far each database has got; --check exits 0 up to date,
                      1 out of order, 2 expand needed, 3 migrate needed, 4 contract needed,
                      5 contract needed but an older release still runs;
                      --serves N exits 0 when the schema serves release N, else 1
  expand              run pending expand units (additive changes, sync triggers)
  migrate             run pending migrate units (data changes)
  contract            run pending contract units (removals; drops expand's triggers);
                      refused while a live release older than the version runs
  release register    heartbeat a running release (--service S --release N
                      [--instance ID] [--ttl 60] [--every S])
  release list        the releases heartbeating in each database (--format json)
  release forget S/I  remove an instance that will never heartbeat again
  abort               undo the version in flight (expand ran, contract did not) on every
                      database: its triggers dropped, its operations reversed, state N-1;
                      refused while a live release at or past it runs
  upgrade             offline: expand, migrate and contract at once, no triggers
  repair              undo the applied steps of a unit that stopped part-way, so that
                      the unit, edited since, can run (MySQL DDL, CONCURRENTLY units)
  history             the units each database ran
  inspect             print the live schema in the model format (--format yaml|json)
  compare             report drift between the model and the live databases (exit 1 on drift)
  verify              apply every version to scratch databases and compare with the model
  baseline N          adopt a database built without tandem: record state N once it
                      matches what versions 001..N build (on a scratch database)
  archive             move soft-deleted rows (and their children) to the shadow tables
  purge               delete rows from the shadow tables (--before DATE or --all)
  completion bash     print the bash completion script

Options)";

tandem::cli::CommandLine parse(int argc, char** argv, bool& help) {
  tandem::cli::CommandLine line;
  std::string format = "text";
  po::options_description options(kUsage);
  options.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("db", po::value<std::string>(), "database URL (or TANDEM_DATABASE_URL): sqlite:///abs.db, sqlite:rel.db, "
                                       "sqlite::memory:, postgresql://, mysql://")
      ("config", po::value<std::string>(), "deployment config (default: ./tandem.yaml when present)")
      ("repos", po::value<std::string>(), "folder holding expand_repo, data_migration_repo, contract_repo")
      ("to", po::value<long long>(), "stop after this version")
      ("dry-run", po::bool_switch(&line.dry_run), "print the SQL, change nothing")
      ("format", po::value<std::string>(&format), "text, json (check: also github)")
      ("verbose,v", po::bool_switch(&line.verbose), "say more")
      ("no-progress", po::bool_switch(&line.no_progress), "no progress bar")
      ("wait", po::value<int>(&line.wait_seconds), "seconds to wait for another run's lock (default 0)")
      ("lock-timeout", po::value<int>(&line.lock_timeout_ms), "ms one DDL statement may wait for a table lock before "
                                                              "it backs off, so the application never waits longer (default 500)")
      ("lock-retries", po::value<int>(&line.lock_retries), "attempts after a lost lock fight, with doubling backoff (default 10)")
      ("database", po::value<std::string>(), "only databases of this role (api, cell, main); with --db, the role of that database")
      ("cell", po::value<std::string>(), "only the cell with this name")
      ("check", po::bool_switch(&line.check), "status: exit with the readiness code")
      ("serves", po::value<long long>(), "status: exit 0 when the schema serves release N, else 1")
      ("ignore-releases", po::bool_switch(&line.ignore_releases), "contract: run even while an older release still runs; abort: even while "
                                                            "a release at or past the version runs")
      ("service", po::value<std::string>(), "release register: the service name (nova-api)")
      ("release", po::value<long long>(), "release register: the version this release's code was written for")
      ("instance", po::value<std::string>(), "release register: this instance's stable name (default: host name)")
      ("ttl", po::value<int>(), "release register: seconds a heartbeat stays live (default 60)")
      ("every", po::value<int>(), "release register: heartbeat every this many seconds until stopped")
      ("from-model", po::bool_switch(&line.from_model), "new: write the units that take the history's schema to the model")
      ("model", po::value<std::string>(), "compare, verify, new --from-model: folder with <role>.yaml models (default: the config's, else ./model)")
      ("dev-db", po::value<std::string>(), "verify, baseline: a PostgreSQL or MySQL server URL to make scratch "
                                           "databases on (default: verify SQLite files, baseline the database's own server)")
      ("max-rows", po::value<std::string>(), "archive: at most this many parent rows per table and run")
      ("before", po::value<std::string>(), "archive, purge: only rows deleted before this date (2026-01-31, "
                                           "2026-01-31T12:00:00)")
      ("until-complete", po::bool_switch(&line.until_complete), "archive: repeat until nothing is left")
      ("purge", po::bool_switch(&line.purge_too), "archive: purge the shadow tables afterwards")
      ("all", po::bool_switch(&line.all), "purge: every shadow row")
      ("sleep", po::value<int>(&line.sleep_ms), "migrate, archive: milliseconds to pause between batches")
      ("batch-size", po::value<int>(), "migrate: rows per batch (default: the operation's batch:, else 1000)")
      ("jobs,j", po::value<int>(&line.jobs), "cells to run at once, after the api database (default 1)")
      ("batch-time", po::value<int>(), "migrate: adapt the batch size so a batch takes about this many ms")
      ("max-count", po::value<long long>(), "migrate: at most this many rows this run; exits 1 while rows remain");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>(), "")("arguments", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("arguments", -1);
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), values);
    po::notify(values);
  } catch (const po::error& error) {
    throw Error(ErrorKind::usage, fmt::format("{} (see tandem --help)", error.what()));
  }
  if (values.count("version")) {
    std::cout << "tandem " << tandem::kToolVersion << "\n";
    help = true;
    return line;
  }
  if (values.count("help") || !values.count("command")) {
    std::cout << options << "\n";
    help = true;
    if (!values.count("help")) throw Error(ErrorKind::usage, "no command given");
    return line;
  }
  line.command = values["command"].as<std::string>();
  if (values.count("arguments")) line.arguments = values["arguments"].as<std::vector<std::string>>();
  if (values.count("db")) line.db = values["db"].as<std::string>();
  if (values.count("config")) line.config = values["config"].as<std::string>();
  if (values.count("repos")) line.repos = values["repos"].as<std::string>();
  if (values.count("to")) line.to = values["to"].as<long long>();
  if (values.count("database")) line.database_role = values["database"].as<std::string>();
  if (values.count("cell")) line.cell = values["cell"].as<std::string>();
  if (values.count("model")) line.model = values["model"].as<std::string>();
  if (values.count("dev-db")) line.dev_db = values["dev-db"].as<std::string>();
  if (values.count("max-rows")) line.max_rows = values["max-rows"].as<std::string>();
  if (values.count("before")) line.before = values["before"].as<std::string>();
  if (values.count("serves")) line.serves = values["serves"].as<long long>();
  if (values.count("service")) line.service = values["service"].as<std::string>();
  if (values.count("release")) line.release = values["release"].as<long long>();
  if (values.count("instance")) line.instance = values["instance"].as<std::string>();
  if (values.count("ttl")) line.ttl_seconds = values["ttl"].as<int>();
  if (values.count("every")) {
    line.every_seconds = values["every"].as<int>();
    if (*line.every_seconds <= 0) throw Error(ErrorKind::usage, "--every must be a positive number of seconds");
  }
  if (line.sleep_ms < 0) throw Error(ErrorKind::usage, "--sleep must be zero or more milliseconds");
  if (values.count("batch-size")) line.batch_size = values["batch-size"].as<int>();
  if (line.batch_size && *line.batch_size <= 0) throw Error(ErrorKind::usage, "--batch-size must be a positive number of rows");
  if (line.jobs <= 0) throw Error(ErrorKind::usage, "--jobs must be a positive number of cells");
  if (values.count("batch-time")) {
    line.batch_time_ms = values["batch-time"].as<int>();
    if (*line.batch_time_ms <= 0) throw Error(ErrorKind::usage, "--batch-time must be a positive number of milliseconds");
  }
  if (values.count("max-count")) {
    line.max_count = values["max-count"].as<long long>();
    if (*line.max_count <= 0) throw Error(ErrorKind::usage, "--max-count must be a positive number of rows");
  }
  if (line.wait_seconds < 0) throw Error(ErrorKind::usage, "--wait must be zero or more seconds");
  if (line.lock_timeout_ms <= 0) throw Error(ErrorKind::usage, "--lock-timeout must be a positive number of milliseconds");
  if (line.lock_retries < 0) throw Error(ErrorKind::usage, "--lock-retries must be zero or more");
  static const std::map<std::string, tandem::cli::Format> formats = {
      {"text", tandem::cli::Format::text}, {"json", tandem::cli::Format::json}, {"github", tandem::cli::Format::github},
      {"yaml", tandem::cli::Format::yaml}};
  auto it = formats.find(format);
  if (it == formats.end()) throw Error(ErrorKind::usage, fmt::format("--format {}: expected text, json or github", format));
  line.format = it->second;
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool help = false;
    const auto line = parse(argc, argv, help);
    if (help) return 0;
    const std::string& command = line.command;
    // Only `new`, `release`, `baseline` and `completion` take words after the command; a
    // stray one is a mistake, not ignored.
    if (command != "new" && command != "release" && command != "baseline" && command != "completion" &&
        !line.arguments.empty())
      throw Error(ErrorKind::usage, fmt::format("tandem {} takes no arguments, got '{}' (options start with --)", command,
                                                line.arguments.front()));
    if (command == "check") return tandem::cli::run_check(line);
    if (command == "new") return tandem::cli::run_new(line);
    if (command == "status") return tandem::cli::run_status(line);
    if (command == "history") return tandem::cli::run_history(line);
    if (command == "repair") return tandem::cli::run_repair(line);
    if (command == "abort") return tandem::cli::run_abort(line);
    if (command == "release") return tandem::cli::run_release(line);
    if (command == "expand" || command == "migrate" || command == "contract" || command == "upgrade")
      return tandem::cli::run_phase(line);
    if (command == "inspect") return tandem::cli::run_inspect(line);
    if (command == "compare") return tandem::cli::run_compare(line);
    if (command == "verify") return tandem::cli::run_verify(line);
    if (command == "baseline") return tandem::cli::run_baseline(line);
    if (command == "archive") return tandem::cli::run_archive(line);
    if (command == "purge") return tandem::cli::run_purge(line);
    if (command == "completion") return tandem::cli::run_completion(line);
    throw Error(ErrorKind::usage, fmt::format("unknown command '{}' (see tandem --help)", command));
  } catch (const Error& error) {
    // Messages name databases by DatabaseUrl::redacted() and hide passwords in driver
    // messages where they are raised, knowing the URL: nothing is left to guess here.
    std::cerr << "tandem: error: " << error.describe() << "\n";
    return tandem::exit_code(error.kind());
  } catch (const std::exception& error) {
    std::cerr << "tandem: internal error: " << error.what() << "\n";
    return 70;
  }
}
