#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "operations/common.h"
#include "operations/field_reader.h"
#include "tandem/deployment.h"
#include "sql/syntax.h"
#include "tandem/error.h"
#include "unit/unit.h"
#include "yaml_document.h"

namespace tandem {

namespace fs = std::filesystem;

bool Unit::targets(const std::string& role) const {
  return std::any_of(operations.begin(), operations.end(),
                     [&](const ops::Operation& operation) { return role_of(operation) == role; });
}

const Unit* Repositories::find(Phase phase, long long number) const {
  for (const auto& version : versions)
    if (version.number == number) {
      auto it = version.units.find(phase);
      return it == version.units.end() ? nullptr : &it->second;
    }
  return nullptr;
}

namespace {

// A unit's name on something that is no file (a folder, a dangling symlink) is a unit
// that cannot be read, not a version that is missing.
std::string read_file(const fs::path& path, const std::string& display) {
  std::error_code error;
  const auto status = fs::status(path, error);
  std::string problem;
  if (fs::is_symlink(fs::symlink_status(path, error)) && !fs::exists(status))
    problem = fmt::format("it is a symlink to '{}', which does not exist", fs::read_symlink(path, error).string());
  else if (fs::is_directory(status))
    problem = "it is a folder, not a file";
  else if (!fs::is_regular_file(status))
    problem = "it is not a regular file";
  std::ifstream in(path, std::ios::binary);
  if (problem.empty() && !in) problem = std::strerror(errno);
  if (!problem.empty()) throw Error(ErrorKind::invalid_unit, fmt::format("cannot read {}: {}", display, problem)).with_file(display);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Unit parse_unit(const fs::path& path, const std::string& display, Phase phase) {
  const std::string text = read_file(path, display);
  Unit unit;
  unit.phase = phase;
  unit.path = display;
  unit.checksum = unit_checksum(text);
  const YAML::Node document = load_yaml(text, display, ErrorKind::invalid_unit);
  if (!document.IsMap())
    throw Error(ErrorKind::invalid_unit, "a unit must be a mapping with description and operations").with_file(display, 1);
  ops::FieldReader fields(document, display, "unit");
  unit.description = fields.required_string("description");
  if (unit.description.find('\n') != std::string::npos)
    fields.fail(document["description"], "unit: 'description' must be one line");
  unit.database = fields.optional_string("database").value_or(roles::main);
  YAML::Node operations = fields.required_node("operations");
  if (!operations.IsSequence())
    fields.fail(operations, "unit: 'operations' must be a list ([] for a placeholder)");
  for (const auto& item : operations) {
    ops::FieldReader reader(item, display, "operation");
    unit.operations.push_back(ops::parse_operation(reader));
  }
  fields.finish();
  return unit;
}

// Whether `digits` fits the long long that orders versions.
bool fits_version_number(const std::string& digits) {
  const size_t first = digits.find_first_not_of('0');
  return first == std::string::npos || digits.size() - first <= 18;
}

struct FileEntry {
  std::string display;
  std::string version;
  long long number;
  std::string name;
  fs::path path;
};

}  // namespace

Repositories load_repositories(const fs::path& root, Findings& findings) {
  if (!fs::is_directory(root))
    throw Error(ErrorKind::invalid_unit, fmt::format("repository folder '{}' does not exist", root.string()));
  static const std::regex unit_file(R"(([0-9]{3,})_([a-z0-9][a-z0-9_]*)\.yaml)");
  Repositories repositories;
  repositories.root = root;
  std::map<long long, VersionUnits> by_number;
  std::map<Phase, std::map<long long, std::vector<FileEntry>>> files;
  for (Phase phase : kPhases) {
    const fs::path folder = root / repository_folder(phase);
    if (!fs::is_directory(folder))
      throw Error(ErrorKind::invalid_unit,
                  fmt::format("repository folder '{}' does not exist (expected {}, {} and {} under {})",
                              folder.lexically_normal().string(), repository_folder(Phase::expand),
                              repository_folder(Phase::migrate), repository_folder(Phase::contract), root.string()));
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(folder)) paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
      const std::string filename = path.filename().string();
      const std::string display = path.lexically_normal().string();
      std::smatch match;
      if (std::regex_match(filename, match, unit_file)) {
        if (match[1].str().find_first_not_of('0') == std::string::npos) {
          findings.error(display, 1, "bad-file-name",
                         fmt::format("unit file name '{}': versions start at 001 (a database nothing has run on is "
                                     "at {}, so this unit would never run)",
                                     filename, match[1].str()));
          continue;
        }
        if (!fits_version_number(match[1])) {
          findings.error(display, 0, "bad-file-name",
                         fmt::format("unit file name '{}': version {} is too large (at most 18 digits after the "
                                     "leading zeros)",
                                     filename, match[1].str()));
          continue;
        }
        FileEntry entry{display, match[1], std::stoll(match[1]), match[2], path};
        files[phase][entry.number].push_back(entry);
      } else if (fs::is_regular_file(path) && (path.extension() == ".yaml" || path.extension() == ".yml")) {
        findings.error(display, 0, "bad-file-name",
                       fmt::format("unit file name '{}' must be NNN_short_name.yaml (three or more digits, then "
                                   "lowercase letters, digits and _)",
                                   filename));
      }
    }
  }
  std::set<long long> all_numbers;
  for (const auto& [phase, numbers] : files)
    for (const auto& [number, entries] : numbers) all_numbers.insert(number);
  for (long long number : all_numbers) {
    std::vector<std::string> present, missing;
    for (Phase phase : kPhases) {
      auto& numbers = files[phase];
      auto it = numbers.find(number);
      if (it == numbers.end()) {
        missing.push_back(repository_folder(phase));
        continue;
      }
      present.push_back(it->second.front().display);
      if (it->second.size() > 1) {
        std::vector<std::string> names;
        for (const auto& entry : it->second) names.push_back(entry.display);
        findings.error(it->second[1].display, 0, "duplicate-version",
                       fmt::format("version {} appears {} times in {}: {}", it->second[0].version, it->second.size(),
                                   repository_folder(phase), fmt::join(names, ", ")));
      }
      const FileEntry& entry = it->second.front();
      try {
        Unit unit = parse_unit(entry.path, entry.display, phase);
        unit.version = entry.version;
        unit.number = number;
        unit.name = entry.name;
        auto& version = by_number[number];
        version.version = entry.version;
        version.number = number;
        version.units.emplace(phase, std::move(unit));
      } catch (const Error& error) {
        findings.error(error.file().value_or(entry.display), error.line(), "invalid-unit",
                       fmt::format("version {}: {}", entry.version, error.what()));
      }
    }
    if (!missing.empty())
      findings.error(present.front(), 0, "missing-version",
                     fmt::format("version {:03} is missing from {} (every version needs a unit in all three "
                                 "repositories; use a placeholder with operations: [])",
                                 number, fmt::join(missing, " and ")));
  }
  long long previous = -1;
  for (long long number : all_numbers) {
    if (previous >= 0 && number != previous + 1) {
      // Name a file of the version after the gap, so the finding points where to look.
      std::string file;
      for (Phase phase : kPhases)
        if (auto it = files[phase].find(number); file.empty() && it != files[phase].end())
          file = it->second.front().display;
      findings.error(file, 0, "version-gap",
                     fmt::format("versions jump from {:03} to {:03}; versions must follow one another without gaps",
                                 previous, number));
    }
    previous = number;
  }
  for (auto& [number, version] : by_number) repositories.versions.push_back(std::move(version));
  return repositories;
}

Repositories load_repositories_or_throw(const fs::path& root) {
  Findings findings;
  Repositories repositories = load_repositories(root, findings);
  for (const auto& finding : findings.items())
    if (finding.severity == Severity::error)
      throw Error(ErrorKind::invalid_unit, fmt::format("{} ({})", finding.message, finding.code))
          .with_file(finding.file, finding.line);
  return repositories;
}

namespace {

// DESIGN §16: an operation nothing can undo makes its version impossible to abort, which
// the author should know before it ships. Judged on every dialect, with no data (a
// set_nullable column's NULLs are only known when the abort runs).
void warn_if_abort_impossible(const ops::Operation& operation, const ops::ValidationContext& context) {
  const schema::Schema empty;
  for (const sql::Syntax* dialect : sql::syntaxes()) {
    const ops::ReverseContext reverse{empty, dialect->kind, [](const std::string&, const std::string&) { return false; }};
    if (auto refusal = operation.reverse(reverse).refusal) {
      context.warning("cannot-abort", fmt::format("version {}: {} ({}) makes the version impossible to abort: {}",
                                                  context.version, operation.name(), operation.describe(), *refusal));
      return;
    }
  }
}

size_t error_count(const Findings& findings) {
  size_t count = 0;
  for (const auto& finding : findings.items()) count += finding.severity == Severity::error;
  return count;
}

}  // namespace

void validate_units(const Repositories& repositories, Findings& findings) {
  std::string migrated_text;
  for (const auto& version : repositories.versions)
    for (const auto& [phase, unit] : version.units)
      for (const auto& operation : unit.operations) {
        // A copy: clang before 16 cannot capture a structured binding in a lambda.
        const bool migrate = phase == Phase::migrate;
        if (migrate) migrated_text += operation.describe() + "\n";
        std::visit(
            [&](const auto& op) {
              using T = std::decay_t<decltype(op)>;
              if constexpr (std::is_same_v<T, ops::SyncColumn>) migrated_text += op.up + " " + op.down + " " + op.old_column + "\n";
              if constexpr (std::is_same_v<T, ops::RawSql>)
                if (migrate) {
                  if (op.all) migrated_text += *op.all + "\n";
                  for (const auto& [dialect, text] : op.per_dialect) migrated_text += text + "\n";
                }
              if constexpr (std::is_same_v<T, ops::SyncTable> || std::is_same_v<T, ops::CopyRows> ||
                            std::is_same_v<T, ops::MoveRows>)
                for (const auto& [target, expression] : op.columns) migrated_text += expression + "\n";
              if constexpr (std::is_same_v<T, ops::Backfill>)
                for (const auto& [target, expression] : op.set) migrated_text += expression + " " + op.where.value_or("") + "\n";
            },
            operation.body);
      }
  for (const auto& version : repositories.versions)
    for (const auto& [phase, unit] : version.units) {
      ops::ValidationContext unit_context{phase, unit.path, 1, unit.version, findings, &migrated_text};
      unit_context.require_identifier(unit.database, "database role");
      for (const auto& operation : unit.operations) {
        ops::ValidationContext context = unit_context;
        context.line = operation.line;
        if (operation.database) context.require_identifier(*operation.database, "database role");
        if (!(operation.phases() & ops::phase_bit(phase))) {
          // Coded by the change the operation makes, as raw SQL making that change would be.
          const bool expand_op = operation.phases() & ops::kExpand;
          const bool migrate_op = operation.phases() & ops::kMigrate;
          const sql::StatementClass cls = expand_op    ? sql::StatementClass::additive
                                          : migrate_op ? sql::StatementClass::data
                                                       : sql::StatementClass::contractive;
          context.error(ops::phase_rule_code(phase, cls),
                        fmt::format("version {}: {} ({}) is not allowed in {}; {} belongs to {}", unit.version,
                                    operation.name(), operation.describe(), phase_name(phase), operation.name(),
                                    expand_op ? "expand" : migrate_op ? "migrate" : "contract"));
          continue;
        }
        const size_t errors_before = error_count(findings);
        std::visit([&](const auto& op) { op.validate(context); }, operation.body);
        // An operation that already breaks a rule will not run as written: no abort to warn of.
        if (phase != Phase::contract && error_count(findings) == errors_before)
          warn_if_abort_impossible(operation, context);
      }
    }
}

}  // namespace tandem
