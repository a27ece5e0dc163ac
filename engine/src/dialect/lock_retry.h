// Retrying what lost a lock fight: DDL (DESIGN §6) and migrate batches (§7) alike wait
// 100 ms, doubling up to 10 s, and try again, at most --lock-retries times.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

#include "tandem/error.h"

namespace tandem {

// Runs `attempt` until it does not throw an Error that `lost_lock_fight` accepts; calls
// `on_retry(backoff)` before each retry. Rethrows other errors at once, and a lost fight
// after `retries` retries. Each attempt must start afresh (its transaction rolled back).
template <typename Attempt, typename LostLockFight, typename OnRetry>
void retry_lock_fights(int retries, LostLockFight lost_lock_fight, OnRetry on_retry, Attempt attempt) {
  auto backoff = std::chrono::milliseconds(100);
  for (int tries = 0;; ++tries) {
    try {
      attempt();
      return;
    } catch (const Error& error) {
      if (!lost_lock_fight(error) || tries >= retries) throw;
      on_retry(backoff);
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
  }
}

}  // namespace tandem
