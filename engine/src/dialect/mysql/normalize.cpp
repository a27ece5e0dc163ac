// MySQL / MariaDB as compare sees them: COLUMN_TYPE keeps integer display widths
// (`int(11)`, but `tinyint(1)` is how a boolean is told), an enum lists its values in
// the type, and InnoDB adds an index of its own for every foreign key that lacks one.
#include <algorithm>
#include <map>
#include <regex>

#include "dialect/mysql/mysql.h"
#include "dialect/normalize.h"
#include "operations/portable_type.h"

namespace tandem::mysql {

namespace {

class MysqlNormalizer final : public DialectNormalizer {
 public:
  std::string declared_type(const std::string& portable) const override { return renderer_.declared_type(portable); }

  std::string portable_type(const std::string& canonical) const override {
    static const std::map<std::string, std::string> plain = {
        {"int", "integer"},   {"bigint", "bigint"},         {"smallint", "smallint"}, {"tinyint(1)", "boolean"},
        {"text", "text"},     {"mediumtext", "mediumtext"}, {"float", "float"},       {"double", "double"},
        {"datetime", "datetime"}, {"date", "date"},         {"mediumblob", "blob"},   {"json", "json"}};
    if (auto it = plain.find(canonical); it != plain.end()) return it->second;
    static const std::regex varchar(R"(varchar\((\d+)\))");
    static const std::regex decimal(R"(decimal\((\d+),(\d+)\))");
    std::smatch match;
    if (std::regex_match(canonical, match, varchar)) return "string(" + match[1].str() + ")";
    if (std::regex_match(canonical, match, decimal)) return "decimal(" + match[1].str() + "," + match[2].str() + ")";
    return canonical;
  }

  // _utf8mb4'none': the character set introducer MySQL 8 shows in expression defaults.
  std::string strip_default(const std::string& expression) const override {
    static const std::regex introducer(R"(^_[A-Za-z0-9]+(?='))");
    return std::regex_replace(expression, introducer, "");
  }

  void resolve_live(schema::Schema&, Connection&) const override {}

  // InnoDB's own index for a foreign key is named after the constraint (or, for a key
  // declared without a name, after its first column) and covers exactly its columns; a
  // model never declares it. RESTRICT and NO ACTION are one rule on InnoDB.
  void canonical_table(schema::Table& table) const override {
    std::vector<schema::Index> kept;
    for (const auto& index : table.indexes) {
      const bool implicit = std::any_of(table.foreign_keys.begin(), table.foreign_keys.end(), [&](const auto& key) {
        return key.columns == index.columns && (index.name == key.name || index.name == key.columns.front());
      });
      if (!implicit) kept.push_back(index);
    }
    table.indexes = std::move(kept);
    for (auto& key : table.foreign_keys)
      if (key.on_delete == "restrict") key.on_delete.clear();
  }

 private:
  std::string respell(const std::string& type) const override {
    std::string squeezed = squeeze(type);
    // Display widths mean nothing to what an integer holds, except that tinyint(1) is
    // how MySQL tells a boolean.
    static const std::regex width(R"(^(tinyint|smallint|mediumint|int|integer|bigint)\((\d+)\))");
    std::smatch match;
    if (std::regex_search(squeezed, match, width) && !(match[1] == "tinyint" && match[2] == "1"))
      squeezed = match[1].str() + match.suffix().str();
    static const std::map<std::string, std::string> synonyms = {
        {"integer", "int"},  {"bool", "tinyint(1)"}, {"boolean", "tinyint(1)"},
        {"real", "double"},  {"double precision", "double"}};
    if (auto it = synonyms.find(squeezed); it != synonyms.end()) return it->second;
    if (squeezed.rfind("integer ", 0) == 0) squeezed = "int" + squeezed.substr(7);
    static const std::regex sized(R"((numeric|decimal|character varying|varchar)\((.*)\))");
    if (std::regex_match(squeezed, match, sized))
      return (match[1] == "numeric" || match[1] == "decimal" ? "decimal(" : "varchar(") + match[2].str() + ")";
    // enum('ssh','x509'): the values as written, not lower-cased.
    static const std::regex enum_list(R"(^\s*enum\s*\((.*)\)\s*$)", std::regex::icase);
    if (std::regex_match(type, match, enum_list))
      if (auto values = quoted_values(match[1].str())) return enum_type(*values);
    return squeezed;
  }

  MysqlRenderer renderer_;
};

}  // namespace

const DialectNormalizer& normalizer() {
  static const MysqlNormalizer instance;
  return instance;
}

}  // namespace tandem::mysql
