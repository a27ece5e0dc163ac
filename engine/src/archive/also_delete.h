// archive.also_delete (DESIGN §10): the rows of other databases of the deployment that
// belong to archived rows, as nova-manage removes the API database's instance_mappings
// and request_specs of the instances it archives.
//
// Why no journal: a crash between a cell batch's commit and the deletes in the other
// database must lose nothing, and the cell already records what is pending: every
// archived row is in shadow_<of table> from that commit until purge. So a run first
// sweeps (deletes the rows whose column holds any value of the shadow's `of` column:
// deleting rows already gone deletes nothing, so a sweep is idempotent), and each batch
// then deletes the rows of the values it archived, after its commit. Purge sweeps the
// rows it is about to delete from a shadow before deleting them, so no pending value is
// ever lost with them. The `of` column must identify its row for ever (nova's uuid): a
// value archived once is never that of a live row.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "tandem/archive.h"
#include "tandem/deployment.h"

namespace tandem::archiving {

class AlsoDeleter {
 public:
  // The rules of `deployment` for rows archived in the database named `database`.
  AlsoDeleter(const Deployment& deployment, const std::string& database);

  // The rules whose `of` table is `table`.
  std::vector<const AlsoDelete*> rules_of(const std::string& table) const;

  // Deletes the rows of `rule` for `values` (bound as parameters, in chunks); counts them in `deleted`.
  void remove(const AlsoDelete& rule, const std::vector<Value>& values, std::vector<TableCount>& deleted);

  // Deletes the rows of every rule for the values in the shadow of its `of` table in
  // `cell` (only its rows meeting `where`, with `params`, when given); a cell without
  // that shadow has nothing pending. Throws Error(bad_config) when the shadow lacks the
  // `of` column.
  void sweep(Connection& cell, const schema::Schema& snapshot, std::vector<TableCount>& deleted,
             const std::string& shadow = "", const std::string& where = "", const std::vector<Value>& params = {});

 private:
  Connection& connection(const std::string& name);

  const Deployment& deployment_;
  std::vector<const AlsoDelete*> rules_;
  std::map<std::string, std::unique_ptr<Connection>> connections_;
};

}  // namespace tandem::archiving
