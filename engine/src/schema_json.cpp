#include "schema_json.h"

namespace tandem::schema {

void to_json(nlohmann::json& out, const Column& column) {
  out = {{"name", column.name},
         {"type", column.type},
         {"nullable", column.nullable},
         {"primary_key", column.primary_key},
         {"autoincrement", column.autoincrement}};
  if (column.default_value) out["default"] = *column.default_value;
}

void from_json(const nlohmann::json& in, Column& column) {
  column.name = in.at("name").get<std::string>();
  column.type = in.value("type", "");
  column.nullable = in.value("nullable", true);
  column.primary_key = in.value("primary_key", false);
  column.autoincrement = in.value("autoincrement", false);
  if (in.contains("default")) column.default_value = in.at("default").get<std::string>();
}

}  // namespace tandem::schema
