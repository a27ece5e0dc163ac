// What compare's normalization (DESIGN §9) needs from a dialect: the one spelling of a
// type and a default in it, and what its live snapshots keep elsewhere. The shared rules
// live in model/normalize.cpp; each dialect implements a DialectNormalizer in
// dialect/<dialect>/normalize.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dialect/dialect.h"
#include "tandem/schema.h"

namespace tandem {

class DialectNormalizer {
 public:
  virtual ~DialectNormalizer() = default;

  // The one spelling of a column type in this dialect. A portable type (DESIGN §2) goes
  // through the dialect's type map first; a type as the database reports it is respelled
  // (`character varying(64)` and `varchar(64)`, `int(11)` and `int`). Enums are
  // `enum(a,b)` in every dialect: compared by their values, never by a type name.
  std::string canonical_type(const std::string& type) const;

  // The portable type a canonical type comes from, or the canonical type itself when no
  // portable type maps to it. Where several map to one (SQLite's INTEGER), the plainest.
  virtual std::string portable_type(const std::string& canonical) const = 0;

  // A default expression without this dialect's decoration (PostgreSQL casts such as
  // `'ssh'::keypair_types`, MySQL charset introducers); the shared rules do the rest.
  virtual std::string strip_default(const std::string& expression) const = 0;

  // Live snapshots only, before anything else: puts into the plain schema what the
  // snapshot keeps elsewhere (PostgreSQL enum labels from the catalog, SQLite enum
  // CHECKs folded into the column type).
  virtual void resolve_live(schema::Schema& live, Connection& connection) const = 0;

  // Both sides, after the shared rules: what this dialect adds or merges by itself
  // (MySQL's implicit foreign-key indexes, RESTRICT being NO ACTION on InnoDB).
  virtual void canonical_table(schema::Table& table) const { (void)table; }

 protected:
  // The dialect's type for a portable type (its renderer's type map).
  virtual std::string declared_type(const std::string& portable) const = 0;
  // The dialect's one spelling of a type as its database reports it.
  virtual std::string respell(const std::string& type) const = 0;
};

// The normalizer of `kind`.
const DialectNormalizer& normalizer_for(DialectKind kind);

// Shared by the dialects: `enum(a,b)` for a list of labels.
std::string enum_type(const std::vector<std::string>& values);
// The labels of a list of single-quoted literals ("'a', 'b'"), nullopt when `list` is
// anything else.
std::optional<std::vector<std::string>> quoted_values(const std::string& list);
// Lower case, runs of white space made one space, none inside parentheses.
std::string squeeze(const std::string& text);

}  // namespace tandem

namespace tandem::sqlite {
const DialectNormalizer& normalizer();
}
namespace tandem::postgresql {
const DialectNormalizer& normalizer();
}
namespace tandem::mysql {
const DialectNormalizer& normalizer();
}
