// SQLite as compare sees it: a declared type is whatever CREATE TABLE said, so the
// synonyms that mean one type here are merged (INTEGER for every integer, REAL for
// every float), and an enum is TEXT with a CHECK listing its values.
#include <map>
#include <regex>

#include "dialect/normalize.h"
#include "dialect/sqlite/sqlite.h"
#include "operations/portable_type.h"

namespace tandem::sqlite {

namespace {

class SqliteNormalizer final : public DialectNormalizer {
 public:
  std::string declared_type(const std::string& portable) const override { return renderer_.declared_type(portable); }

  std::string portable_type(const std::string& canonical) const override {
    static const std::map<std::string, std::string> plain = {
        {"integer", "integer"}, {"boolean", "boolean"}, {"text", "text"},  {"real", "double"},
        {"datetime", "datetime"}, {"date", "date"},     {"blob", "blob"}};
    if (auto it = plain.find(canonical); it != plain.end()) return it->second;
    static const std::regex varchar(R"(varchar\((\d+)\))");
    static const std::regex numeric(R"(numeric\((\d+),(\d+)\))");
    std::smatch match;
    if (std::regex_match(canonical, match, varchar)) return "string(" + match[1].str() + ")";
    if (std::regex_match(canonical, match, numeric)) return "decimal(" + match[1].str() + "," + match[2].str() + ")";
    return canonical;
  }

  std::string strip_default(const std::string& expression) const override { return expression; }

  // The CHECK that makes a TEXT column an enum ("type" IN ('ssh', 'x509')) becomes the
  // column's type, whatever the check is called (a shadow table's is named after its table).
  void resolve_live(schema::Schema& live, Connection&) const override {
    static const std::regex in_list(R"re(^\s*["`\[]?(\w+)["`\]]?\s+IN\s*\((.*)\)\s*$)re", std::regex::icase);
    for (auto& table : live.tables) {
      std::vector<schema::Check> kept;
      for (const auto& check : table.checks) {
        std::smatch match;
        schema::Column* column = nullptr;
        std::optional<std::vector<std::string>> values;
        if (std::regex_match(check.expression, match, in_list)) {
          column = table.find_column(match[1].str());
          values = quoted_values(match[2].str());
        }
        if (column && values && respell(column->type) == "text") {
          column->type = enum_type(*values);
          continue;
        }
        kept.push_back(check);
      }
      table.checks = std::move(kept);
    }
  }

 private:
  std::string respell(const std::string& type) const override {
    std::string squeezed = squeeze(type);
    static const std::map<std::string, std::string> synonyms = {
        {"int", "integer"},      {"bigint", "integer"},  {"smallint", "integer"},         {"tinyint", "integer"},
        {"mediumint", "integer"}, {"int2", "integer"},   {"int8", "integer"},             {"bool", "boolean"},
        {"double", "real"},      {"float", "real"},      {"double precision", "real"},    {"clob", "text"}};
    if (auto it = synonyms.find(squeezed); it != synonyms.end()) return it->second;
    static const std::regex varchar(R"((character varying|varchar|nvarchar)\((\d+)\))");
    static const std::regex decimal(R"((decimal|numeric)\((\d+),(\d+)\))");
    std::smatch match;
    if (std::regex_match(squeezed, match, varchar)) return "varchar(" + match[2].str() + ")";
    if (std::regex_match(squeezed, match, decimal)) return "numeric(" + match[2].str() + "," + match[3].str() + ")";
    return squeezed;
  }

  SqliteRenderer renderer_;
};

}  // namespace

const DialectNormalizer& normalizer() {
  static const SqliteNormalizer instance;
  return instance;
}

}  // namespace tandem::sqlite
