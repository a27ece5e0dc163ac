// A fresh database for one benchmark run, dropped by `drop`: a SQLite file in the
// temporary folder (its WAL, shared-memory and tandem lock files too), or a database made
// on the server of `admin_url`.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "dialect/dialect.h"

struct Scratch {
  std::string url;
  std::function<void()> drop;
};

// `wal`: SQLite in WAL mode, as a deployment serving traffic would run it (the mode is
// kept in the file); otherwise SQLite's default rollback journal.
inline Scratch make_database(tandem::DialectKind dialect, const std::string& admin_url, const std::string& name,
                             bool wal = true) {
  using tandem::connect;
  using tandem::DatabaseUrl;
  if (dialect == tandem::DialectKind::sqlite) {
    const std::filesystem::path file = std::filesystem::temp_directory_path() / (name + ".db");
    auto remove = [file] {
      for (const char* suffix : {"", "-wal", "-shm", ".tandem-lock"}) std::filesystem::remove(file.string() + suffix);
    };
    remove();
    const std::string url = "sqlite://" + file.string();
    if (wal) connect(DatabaseUrl::parse(url))->execute("PRAGMA journal_mode=WAL");
    return {url, remove};
  }
  auto admin = connect(DatabaseUrl::parse(admin_url));
  admin->execute("DROP DATABASE IF EXISTS " + name);
  admin->execute("CREATE DATABASE " + name);
  return {admin_url.substr(0, admin_url.rfind('/') + 1) + name,
          [admin_url, name] { connect(DatabaseUrl::parse(admin_url))->execute("DROP DATABASE " + name); }};
}
