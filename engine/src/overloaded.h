// std::visit with one lambda per alternative: Overloaded{[](const A&) {...}, [](const B&) {...}}.
#pragma once

namespace tandem {

template <typename... Cases>
struct Overloaded : Cases... {
  using Cases::operator()...;
};
template <typename... Cases>
Overloaded(Cases...) -> Overloaded<Cases...>;

}  // namespace tandem
