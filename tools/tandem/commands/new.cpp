#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "../cli.h"
#include "tandem/error.h"
#include "tandem/repository_tools.h"

namespace tandem::cli {

namespace fs = std::filesystem;

namespace {

// The model folder as verify finds it: --model, else the config's, else <repos>/model.
fs::path model_folder(const CommandLine& line) {
  if (line.model) return *line.model;
  if (line.config || fs::exists("tandem.yaml")) return Deployment::load(line.config.value_or("tandem.yaml")).model;
  return line.repos_folder() / "model";
}

// Exit 0 whether or not there was anything to write; --dry-run prints the units instead.
int run_new_from_model(const CommandLine& line) {
  const auto units = new_version_from_model(line.repos_folder(), line.arguments.front(), model_folder(line), line.dry_run);
  if (units.empty()) {
    std::cout << "new: the model is what the history builds; nothing to write\n";
    return 0;
  }
  for (const auto& unit : units) {
    if (line.dry_run)
      std::cout << fmt::format("--- {} (not written)\n{}", unit.path.lexically_normal().string(), unit.text);
    else
      std::cout << "created " << unit.path.lexically_normal().string() << "\n";
  }
  return 0;
}

}  // namespace

int run_new(const CommandLine& line) {
  if (line.arguments.size() != 1) throw Error(ErrorKind::usage, "usage: tandem new NAME [--from-model [--model DIR] [--dry-run]]");
  if (line.from_model) return run_new_from_model(line);
  for (const auto& path : new_version(line.repos_folder(), line.arguments.front()))
    std::cout << "created " << path.lexically_normal().string() << "\n";
  return 0;
}

}  // namespace tandem::cli
