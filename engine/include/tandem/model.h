// The declared model (DESIGN §9): the schema each role's databases must have after
// every migration, kept in `model/<role>.yaml`, and the commands built on it: inspect
// (a live database in the model format), compare (drift between a model and live
// databases) and verify (the migrations, applied to scratch databases, produce the model).
//
//   tables:
//     - name: instances
//       columns:
//         - {name: id, type: integer, primary_key: true, autoincrement: true}
//         - {name: uuid, type: string(36), nullable: false}
//         - {name: state, type: "enum(active,deleted)", default: "'active'"}
//       indexes: [{name: instances_uuid_idx, columns: [uuid], unique: true}]
//       unique: [[project_id, name]]              # or [{name, columns}]
//       foreign_keys:
//         - {name: instances_node_fkey, columns: [node_id], references: {table: nodes, columns: [id]},
//            on_delete: cascade}
//       shadow: true                              # also declares shadow_instances
//
// Column types are the portable types of DESIGN §2; a type that is not one is taken as
// the dialect spells it (what inspect prints for a column no portable type maps to).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/deployment.h"
#include "tandem/schema.h"
#include "tandem/schema_diff.h"
#include "tandem/url.h"

namespace tandem {

// Reads one model file. `shadow: true` becomes a second table, shadow_<name>, with the
// table's columns (autoincrement off) and no index or constraint, as create_table makes
// it. Strict: an unknown key, a missing one, a duplicate name or an index naming a
// column the table lacks throws Error(invalid_unit) with the file and line.
schema::Schema load_model(const std::filesystem::path& file);

// The model files of a folder by role: `api.yaml` declares the role `api`. Empty when
// the folder does not exist.
std::map<std::string, std::filesystem::path> model_files(const std::filesystem::path& folder);

// A schema in the model format, YAML or JSON text. A shadow_<name> table that is exactly
// what `shadow: true` on <name> declares is folded into that flag.
std::string model_yaml(const schema::Schema& model);
std::string model_json(const schema::Schema& model);

// The live schema of a database in the model format: portable types wherever the
// dialect's type maps back to one, defaults and indexes as compare sees them, tandem's
// own tables and triggers, views and checks left out. Throws Error(unreachable).
schema::Schema inspect_database(const DatabaseUrl& url);

// One difference between a model and a live database. `change` reads from the model
// (before) to the database (after): an `add` is in the database only, a `drop` is
// missing from it, a `modify` carries what differs in `detail`.
struct Drift {
  std::string database;  // the deployment's name for it ("api", "cell1", "main")
  schema::SchemaChange change;

  // One line naming the database, the table and the object:
  // "cell1: table instances: column vm_state is in the model but missing from the database".
  // `reference` names what the database was compared with ("schema versions 001..004
  // build", for baseline).
  std::string describe(const std::string& reference = "model") const;
};

// The drift of one database from `model`. Types and defaults are compared in the
// database's dialect after normalization; indexes, unique constraints (a unique index
// counts as one) and foreign keys are paired by content, not by name; views and checks
// are not compared; every tandem trigger or function found is reported as left behind.
std::vector<Drift> compare_database(const schema::Schema& model, const DatabaseTarget& database);

// What `compare` found for one database, and what it compared the database with.
struct Comparison {
  // "model", or during a rolling window "the history at expand 005, contract 004".
  std::string reference = "model";
  std::vector<Drift> drift;
  // Set when the database is in a rolling window but no repositories, or none for its
  // role, are there to say what it holds (it was compared with the model, and this says
  // so), or when raw SQL in the history had its schema built on scratch SQLite.
  std::string note;
};

// compare_database, knowing the rolling window (DESIGN §18): a database whose expand is
// ahead of its contract is compared with the schema the history under `repos` builds at
// its own state (that expand's columns still beside the ones its contract removes), and
// the sync triggers its state records for the window's versions are expected, not left
// behind (one recorded but missing is drift). Any other database is compared with
// `model`, as is a database in a window when `repos` holds no repositories or none of
// their units changes its role (`note` says so). Where raw SQL in the history hides the
// schema from the simulation, the history is built on scratch SQLite databases. Throws
// Error(invalid_unit) when a window's repositories do not load, or their history does not
// build on SQLite (naming the unit).
Comparison compare_with_history(const schema::Schema& model, const DatabaseTarget& database,
                                const std::filesystem::path& repos);

struct VerifyOptions {
  std::filesystem::path repos = ".";
  std::filesystem::path model = "model";
  // A PostgreSQL or MySQL server to make the scratch databases on (made and dropped by
  // verify, so the URL's user must be allowed to); unset: SQLite files in a temporary
  // folder, removed afterwards.
  std::optional<DatabaseUrl> dev_db;
  // One line per unit run and per scratch database made.
  std::function<void(const std::string&)> on_event;
};

struct VerifyReport {
  std::vector<std::string> roles;  // the scratch databases, one per role
  std::vector<Drift> drift;        // empty when the migrations produce the model
  // Where a database in a rolling window (after expand N, before contract N) differs from
  // what the history's simulation says it holds there (DESIGN §18), one line each:
  // "after expand 002: main: table ...". Empty when they agree.
  std::vector<std::string> window_drift;
};

// Applies every version to fresh scratch databases, one per role found in the model
// folder or the units, as a rolling upgrade does: expand N, migrate N, contract N, then
// N+1, with the dynamic phase rules on; after each expand, compares each database with
// what the history's simulation says it holds in that window (a role changed by raw SQL
// is not compared there); at the end, compares each database with its role's model. A role the units use without a model file throws Error(invalid_unit); a failing
// unit throws its error. Scratch databases are removed in every case.
VerifyReport verify(const VerifyOptions& options);

}  // namespace tandem
