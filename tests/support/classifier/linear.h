// LinearClassifier: the reference the classifier is tested and benchmarked against (test
// support, library vsw_classifier_testing; not part of the product).
//
// What? The same question as Classifier::lookup (the highest-priority rule matching a key),
// answered by scanning every rule. Obviously correct, O(rules) per lookup, no wildcard
// tracking, single-threaded. On equal priorities the rule inserted first wins; tests that
// compare cookies use distinct priorities or compare priorities only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "classifier/classifier.h"

namespace vsw::classifier {

class LinearClassifier {
 public:
  void insert(const Match& m, std::int32_t priority, std::uint64_t cookie) {
    Match n = m;
    n.normalize();
    rules_.push_back({n, Hit{priority, cookie}});
  }
  bool remove(const Match& m, std::int32_t priority) {
    Match n = m;
    n.normalize();
    auto it = std::find_if(rules_.begin(), rules_.end(), [&](const Rule& r) {
      return r.hit.priority == priority && r.match == n;
    });
    if (it == rules_.end()) return false;
    rules_.erase(it);
    return true;
  }
  // Rules in descending priority order let lookup stop at the first match.
  void sort() {
    std::stable_sort(rules_.begin(), rules_.end(),
                     [](const Rule& a, const Rule& b) { return a.hit.priority > b.hit.priority; });
  }
  [[nodiscard]] std::optional<Hit> lookup(const FlowKey& k) const {
    const Hit* best = nullptr;
    for (const Rule& r : rules_) {
      if ((best == nullptr || r.hit.priority > best->priority) && r.match.matches(k)) best = &r.hit;
    }
    if (best == nullptr) return std::nullopt;
    return *best;
  }
  [[nodiscard]] std::size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    Match match;
    Hit hit;
  };
  std::vector<Rule> rules_;
};

}  // namespace vsw::classifier
