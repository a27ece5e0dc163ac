// The key-pair move of the bundled history (007-010) reduced to one table: the units the
// move_rows tests share.
#pragma once

namespace tandem::test {

// Version 001: key_pairs in the cells (soft-deleted with `deleted`), and in the api
// database unique on (user_id, name).
inline constexpr const char* kKeyPairs = R"Y(description: key pairs in the cells, and their new home in the api database
database: cell
operations:
  - create_table:
      name: key_pairs
      columns:
        - {name: id, type: integer, primary_key: true, autoincrement: true}
        - {name: user_id, type: string(64), nullable: false}
        - {name: name, type: string(255), nullable: false}
        - {name: public_key, type: text}
        - {name: deleted, type: integer, nullable: false, default: "0"}
  - database: api
    create_table:
      name: key_pairs
      columns:
        - {name: id, type: integer, primary_key: true, autoincrement: true}
        - {name: user_id, type: string(64), nullable: false}
        - {name: name, type: string(255), nullable: false}
        - {name: public_key, type: text}
      unique: [[user_id, name]]
)Y";

// Version 002's migrate unit: live key pairs move from every cell to the api database.
inline constexpr const char* kMoveKeyPairs = R"Y(description: move live key pairs from every cell to the api database
operations:
  - move_rows:
      from: {database: cell, table: key_pairs}
      to: {database: api, table: key_pairs}
      columns: {user_id: user_id, name: name, public_key: public_key}
      unique: [user_id, name]
      where: deleted = 0
)Y";

}  // namespace tandem::test
