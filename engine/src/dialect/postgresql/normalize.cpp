// PostgreSQL as compare sees it: format_type() spells types the SQL standard's way
// (`character varying(64)`, `timestamp without time zone`), an enum column's type is
// its named type, and a default carries a cast to its column's type.
#include <map>
#include <regex>

#include "dialect/normalize.h"
#include "dialect/postgresql/postgresql.h"
#include "operations/portable_type.h"

namespace tandem::postgresql {

namespace {

class PostgresqlNormalizer final : public DialectNormalizer {
 public:
  std::string declared_type(const std::string& portable) const override { return renderer_.declared_type(portable); }

  std::string portable_type(const std::string& canonical) const override {
    static const std::map<std::string, std::string> plain = {
        {"integer", "integer"},     {"bigint", "bigint"}, {"smallint", "smallint"},        {"boolean", "boolean"},
        {"text", "text"},           {"real", "float"},    {"double precision", "double"}, {"timestamp", "datetime"},
        {"date", "date"},           {"bytea", "blob"},    {"jsonb", "json"}};
    if (auto it = plain.find(canonical); it != plain.end()) return it->second;
    static const std::regex varchar(R"(varchar\((\d+)\))");
    static const std::regex numeric(R"(numeric\((\d+),(\d+)\))");
    std::smatch match;
    if (std::regex_match(canonical, match, varchar)) return "string(" + match[1].str() + ")";
    if (std::regex_match(canonical, match, numeric)) return "decimal(" + match[1].str() + "," + match[2].str() + ")";
    return canonical;
  }

  // 'ssh'::keypair_types, 'a'::character varying, NULL::text: the cast is to the column's
  // own type, so it says nothing. Cut at the first top-level `::` when only a chain of
  // type names follows it.
  std::string strip_default(const std::string& expression) const override {
    static const std::regex type_chain(R"re(^(::\s*[\w". \[\]]+(\(\d+(,\s*\d+)?\))?(\[\])?\s*)+$)re");
    char quote = 0;
    int depth = 0;
    for (size_t i = 0; i + 1 < expression.size(); ++i) {
      const char c = expression[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      } else if (depth == 0 && c == ':' && expression[i + 1] == ':') {
        if (std::regex_match(expression.substr(i), type_chain)) return expression.substr(0, i);
        return expression;
      }
    }
    return expression;
  }

  // Enum columns report their type's name; the labels come from pg_enum, so two enums
  // compare by their values whatever their types are called.
  void resolve_live(schema::Schema& live, Connection& connection) const override {
    std::map<std::string, std::vector<std::string>> labels;
    for (const auto& row : connection.query(
             "SELECT format_type(t.oid, NULL), e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
             "ORDER BY t.oid, e.enumsortorder"))
      labels[row[0].value_or("")].push_back(row[1].value_or(""));
    if (labels.empty()) return;
    for (auto& table : live.tables)
      for (auto& column : table.columns)
        if (auto it = labels.find(column.type); it != labels.end()) column.type = enum_type(it->second);
  }

 private:
  std::string respell(const std::string& type) const override {
    const std::string squeezed = squeeze(type);
    static const std::map<std::string, std::string> synonyms = {
        {"int", "integer"},          {"int4", "integer"},
        {"int8", "bigint"},          {"int2", "smallint"},
        {"bool", "boolean"},         {"float8", "double precision"},
        {"float4", "real"},          {"character varying", "varchar"},
        {"timestamp without time zone", "timestamp"}, {"timestamp with time zone", "timestamptz"},
        {"time without time zone", "time"},           {"time with time zone", "timetz"},
        {"decimal", "numeric"}};
    if (auto it = synonyms.find(squeezed); it != synonyms.end()) return it->second;
    static const std::regex sized(R"((character varying|varchar|character|char|decimal|numeric)\((.*)\))");
    std::smatch match;
    if (std::regex_match(squeezed, match, sized)) {
      static const std::map<std::string, std::string> names = {
          {"character varying", "varchar"}, {"varchar", "varchar"}, {"character", "char"},
          {"char", "char"},                 {"decimal", "numeric"}, {"numeric", "numeric"}};
      return names.at(match[1].str()) + "(" + match[2].str() + ")";
    }
    return squeezed;
  }

  PostgresqlRenderer renderer_;
};

}  // namespace

const DialectNormalizer& normalizer() {
  static const PostgresqlNormalizer instance;
  return instance;
}

}  // namespace tandem::postgresql
