#include <fmt/format.h>

#include <iostream>

#include "../cli.h"
#include "tandem/error.h"
#include "tandem/model.h"

namespace tandem::cli {

// The one database inspect prints: --db, or a config narrowed to one by --database/--cell.
int run_inspect(const CommandLine& line) {
  if (line.format != Format::text && line.format != Format::yaml && line.format != Format::json)
    throw Error(ErrorKind::usage, "tandem inspect: --format yaml or json");
  const Deployment deployment = line.deployment();
  std::vector<const DatabaseTarget*> targets;
  for (const auto& database : deployment.databases)
    if ((line.db || !line.database_role || database.role == *line.database_role) &&
        (!line.cell || database.name == *line.cell))
      targets.push_back(&database);
  if (targets.size() != 1)
    throw Error(ErrorKind::usage, fmt::format("tandem inspect prints one database, and {} match: give --db URL, or "
                                              "--database ROLE / --cell NAME narrowing the config to one",
                                              targets.size()));
  const schema::Schema live = inspect_database(targets.front()->url);
  std::cout << (line.format == Format::json ? model_json(live) : model_yaml(live));
  return 0;
}

}  // namespace tandem::cli
