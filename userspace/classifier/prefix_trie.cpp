// See prefix_trie.h.
#include "classifier/prefix_trie.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace vsw::classifier {
namespace {

// Number of leading bits two 4-bit chunks share.
constexpr unsigned lcp4(unsigned a, unsigned b) {
  const unsigned x = (a ^ b) & 0xf;
  return x == 0 ? 4 : static_cast<unsigned>(std::countl_zero(x)) - 28;
}
// 16 bytes operated on element-wise (GCC/Clang vector extension): one node's 16 chunks.
using V16 = std::uint8_t __attribute__((vector_size(16)));

// kAgree[c][j][o] = min(j, lcp4(c, o)): how many of the first j bits of chunk c chunk o shares.
const auto kAgree = [] {
  std::array<std::array<V16, 5>, 16> t{};
  for (unsigned c = 0; c < 16; ++c)
    for (unsigned j = 0; j <= 4; ++j)
      for (unsigned o = 0; o < 16; ++o)
        t[c][j][o] = static_cast<std::uint8_t>(std::min(j, lcp4(c, o)));
  return t;
}();

// One node's info bytes, unpacked: the fold over prefixes is done on these.
struct Info {
  V16 ends{}, ext{}, longer{};
};

// Folds into `in` a prefix whose chunk at this node is c, of which j = min(rest, 4) bits lie
// in the node, rest being its length minus the node's depth. For all 16 chunks o at once:
// agree = min(j, lcp(c, o)); the prefix goes on past the agreement if rest > agree.
// Comparisons give 0xff or 0.
inline void fold_info(Info& in, unsigned c, unsigned j, unsigned rest) {
  const V16 agree = kAgree[c][j];
  const V16 beyond = (agree < static_cast<std::uint8_t>(rest)) & 1;
  const V16 gt = agree > in.ext;
  const V16 eq = agree == in.ext;
  in.ext = (gt & agree) | (~gt & in.ext);
  in.longer = (gt & beyond) | (~gt & (in.longer | (eq & beyond)));
  if (j < 4) {
    const V16 hit = agree == static_cast<std::uint8_t>(j);
    const V16 one = V16{} + 1;  // a vector, not an int, so that it compiles at -O0 too
    in.ends |= hit & (one << j);
  }
}

inline V16 pack(const Info& in) {
  return in.ends | (in.ext << 4) | (in.longer << 7);
}

// Reader-side loads and writer-side stores of fields that readers load concurrently.
template <class T>
T load(const T& x, std::memory_order mo) {
  return std::atomic_ref<T>(const_cast<T&>(x)).load(mo);  // NOLINT(*-const-cast)
}
template <class T>
void store(T& x, T v, std::memory_order mo) {
  std::atomic_ref<T>(x).store(v, mo);
}
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free &&
              std::atomic_ref<std::uint8_t>::is_always_lock_free);

constexpr std::size_t kMinChunk = 64;    // nodes in add()'s first chunk
constexpr std::size_t kMaxChunk = 1024;  // chunks grow with the trie up to this (24 KiB)

}  // namespace

PrefixTrie::PrefixTrie(PrefixTrie&& other) noexcept
    : width_(other.width_),
      root_(other.root_),
      nonempty_(other.nonempty_),
      pending_(std::move(other.pending_)),
      built_(std::move(other.built_)),
      chunks_(std::move(other.chunks_)),
      chunk_used_(other.chunk_used_),
      chunk_cap_(other.chunk_cap_),
      chunk_nodes_(other.chunk_nodes_),
      garbage_nodes_(other.garbage_nodes_) {
  other.clear();
}

PrefixTrie& PrefixTrie::operator=(PrefixTrie&& other) noexcept {
  if (this == &other) return *this;
  width_ = other.width_;
  root_ = other.root_;
  nonempty_ = other.nonempty_;
  pending_ = std::move(other.pending_);
  built_ = std::move(other.built_);
  chunks_ = std::move(other.chunks_);
  chunk_used_ = other.chunk_used_;
  chunk_cap_ = other.chunk_cap_;
  chunk_nodes_ = other.chunk_nodes_;
  garbage_nodes_ = other.garbage_nodes_;
  other.clear();
  return *this;
}

PrefixTrie::~PrefixTrie() = default;

void PrefixTrie::clear() {
  root_ = Node{};
  nonempty_ = false;
  pending_.clear();
  built_.clear();
  chunks_.clear();
  chunk_used_ = chunk_cap_ = chunk_nodes_ = garbage_nodes_ = 0;
}

std::size_t PrefixTrie::memory() const {
  // The root counts as a node once used, as in the breadth-first array it once was.
  return (built_.capacity() + chunk_nodes_ + (nonempty_ ? 1 : 0)) * sizeof(Node);
}

std::uint64_t PrefixTrie::make_link(unsigned map, const Node* first) {
  static_assert(sizeof(void*) == 8, "links pack a 48-bit address");
  static_assert(alignof(Node) >= std::atomic_ref<std::uint64_t>::required_alignment);
  const auto addr = reinterpret_cast<std::uintptr_t>(first);  // NOLINT(*-reinterpret-cast)
  if ((addr >> 48) != 0) std::abort();  // user-space addresses fit in 48 bits on x86-64
  return (std::uint64_t{addr} << 16) | (map & 0xffffU);
}

PrefixTrie::Node* PrefixTrie::allocate(std::size_t n) {
  if (chunk_cap_ - chunk_used_ < n) {
    const std::size_t cap = std::clamp(chunk_nodes_, kMinChunk, kMaxChunk);
    chunks_.push_back(std::make_unique<Node[]>(cap));  // NOLINT(*-avoid-c-arrays)
    make_link(0, chunks_.back().get() + cap);          // checks the whole chunk is addressable
    chunk_used_ = 0;
    chunk_cap_ = cap;
    chunk_nodes_ += cap;
  }
  Node* p = chunks_.back().get() + chunk_used_;
  chunk_used_ += n;
  return p;
}

void PrefixTrie::build() {
  std::sort(pending_.begin(), pending_.end(), [](const Prefix& a, const Prefix& b) {
    return a.value != b.value ? a.value < b.value : a.len < b.len;
  });
  pending_.erase(std::unique(pending_.begin(), pending_.end(),
                             [](const Prefix& a, const Prefix& b) {
                               return a.value == b.value && a.len == b.len;
                             }),
                 pending_.end());
  std::vector<Prefix> prefixes = std::move(pending_);
  clear();
  if (prefixes.empty()) return;
  nonempty_ = true;
  // Breadth-first over ranges of the sorted prefixes: the prefixes below a node share its
  // first `depth` bits and are contiguous, and so are those below each of its children
  // (sorted values group by the next 4 bits). Reading the prefixes in order keeps this
  // cache-friendly; children are allocated together, so they are contiguous. Node 0 is
  // root_, node i > 0 is built_[i - 1]; links hold the first child's node number until
  // built_ stops growing, then its address.
  struct Item {
    std::uint32_t begin, end;  // range of prefixes
    unsigned depth;
    std::uint32_t node;
  };
  std::vector<Item> queue{{0, static_cast<std::uint32_t>(prefixes.size()), 0, 0}};
  for (std::size_t qi = 0; qi < queue.size(); ++qi) {
    const Item it = queue[qi];
    const unsigned depth = it.depth;
    Node& out = it.node == 0 ? root_ : built_[it.node - 1];
    if (it.node != 0) {  // one prefix below: a tail
      const Prefix* only = nullptr;
      std::uint32_t n = 0;
      for (std::uint32_t i = it.begin; i < it.end && n < 2; ++i)
        if (prefixes[i].len >= depth) only = &prefixes[i], ++n;
      if (n == 1) {
        make_tail(out, only->value, only->len);
        continue;
      }
    }
    Info in;
    std::uint16_t through = 0, has = 0;
    std::array<std::uint32_t, 16> cb{}, ce{};
    for (std::uint32_t i = it.begin; i < it.end; ++i) {
      const Prefix& p = prefixes[i];
      if (p.len < depth) continue;  // ended in the parent; sorted in among its siblings
      const unsigned c = chunk(p.value, depth);
      const unsigned j = std::min(p.len - depth, 4U);  // bits of this prefix inside the node
      const bool thr = j == 4 && p.len > depth + 4;
      // A prefix passing through chunk c beyond the child changes nothing once one has.
      if (!thr || ((through >> c) & 1) == 0) {
        if (thr) through |= static_cast<std::uint16_t>(1U << c);
        fold_info(in, c, j, p.len - depth);
      }
      if (j == 4 && depth + 4 < width_) {  // a full-width prefix needs no leaf: see lookup()
        if (((has >> c) & 1) == 0) cb[c] = i;
        ce[c] = i + 1;
        has |= static_cast<std::uint16_t>(1U << c);
      }
    }
    const V16 info = pack(in);
    std::memcpy(out.info.data(), &info, sizeof info);
    out.link = has == 0 ? 0 : (std::uint64_t{built_.size() + 1} << 16) | has;
    for (unsigned c = 0; c < 16; ++c) {
      if (((has >> c) & 1) == 0) continue;
      queue.push_back({cb[c], ce[c], depth + 4, static_cast<std::uint32_t>(built_.size() + 1)});
      built_.emplace_back();
    }
  }
  built_.shrink_to_fit();
  const auto resolve = [&](Node& n) {
    const auto map = static_cast<unsigned>(n.link & 0xffff);
    if (map != 0) n.link = make_link(map, &built_[(n.link >> 16) - 1]);  // else a tail or 0
  };
  resolve(root_);
  for (Node& n : built_) resolve(n);
}

// Writer: folds one prefix into a node's info bytes, storing the bytes that change
// atomically (readers may be loading them).
void PrefixTrie::fold(Node& node, unsigned c, unsigned j, unsigned rest) {
  V16 cur;
  std::memcpy(&cur, node.info.data(), sizeof cur);  // only this thread writes node.info
  Info in{cur & 0xf, (cur >> 4) & 7, cur >> 7};
  fold_info(in, c, j, rest);
  const V16 next = pack(in);
  for (unsigned o = 0; o < 16; ++o)
    if (next[o] != cur[o]) store(node.info[o], next[o], std::memory_order_relaxed);
}

void PrefixTrie::make_tail(Node& n, u128 value, unsigned len) {
  value = masked(value, len);
  std::memcpy(n.info.data(), &value, sizeof value);
  n.link = std::uint64_t{len + 1} << 16;
}

// Writer: fills n, at `depth` and not yet reachable, with the subtree of the np (1 or 2)
// prefixes ps (sorted, distinct, all at least depth long and agreeing on depth bits).
void PrefixTrie::fill(Node& n, unsigned depth, const Prefix* ps, std::size_t np) {
  if (np == 1) {
    make_tail(n, ps[0].value, ps[0].len);
    return;
  }
  Info in;
  std::uint16_t has = 0;
  for (std::size_t i = 0; i < np; ++i) {
    const unsigned c = chunk(ps[i].value, depth);
    const unsigned j = std::min(ps[i].len - depth, 4U);
    fold_info(in, c, j, ps[i].len - depth);
    if (j == 4 && depth + 4 < width_) has |= static_cast<std::uint16_t>(1U << c);
  }
  const V16 info = pack(in);
  std::memcpy(n.info.data(), &info, sizeof info);
  n.link = 0;
  if (has == 0) return;
  Node* block = allocate(static_cast<std::size_t>(std::popcount(has)));
  Node* child = block;
  for (unsigned c = 0; c < 16; ++c) {
    if (((has >> c) & 1) == 0) continue;
    std::array<Prefix, 2> sub{};
    std::size_t ns = 0;
    for (std::size_t i = 0; i < np; ++i)
      if (ps[i].len >= depth + 4 && chunk(ps[i].value, depth) == c) sub[ns++] = ps[i];
    *child = Node{};
    fill(*child++, depth + 4, sub.data(), ns);
  }
  n.link = make_link(has, block);
}

void PrefixTrie::add(u128 value, unsigned len) {
  len = std::min(len, width_);
  value = masked(value, len);
  nonempty_ = true;
  Node* node = &root_;
  for (unsigned depth = 0;; depth += 4) {
    const unsigned c = chunk(value, depth);
    const unsigned j = std::min(len - depth, 4U);
    fold(*node, c, j, len - depth);
    if (j < 4 || depth + 4 >= width_) return;
    const std::uint64_t link = node->link;  // only this thread writes links
    const auto map = static_cast<unsigned>(link & 0xffff);
    const auto rank = static_cast<unsigned>(std::popcount(map & ((1U << c) - 1)));
    const auto k = static_cast<unsigned>(std::popcount(map));
    Node* first = link_first(link);
    Node* block = nullptr;
    if (((map >> c) & 1) != 0) {
      const Node& child = first[rank];
      if (!is_tail(child.link)) {
        node = first + rank;
        continue;
      }
      // The child holds one prefix: a copy of the block gets, in its place, the subtree of
      // that prefix and this one.
      std::array<Prefix, 2> two{Prefix{0, static_cast<unsigned>(child.link >> 16) - 1},
                                Prefix{value, len}};
      std::memcpy(&two[0].value, child.info.data(), sizeof two[0].value);
      if (two[0].value == value && two[0].len == len) return;
      if (two[1].value < two[0].value) std::swap(two[0], two[1]);
      block = allocate(k);
      std::copy(first, first + k, block);
      fill(block[rank], depth + 4, two.data(), 2);
    } else {
      // A new child, a tail holding this prefix, inserted in a copy of the block.
      block = allocate(k + 1);
      std::copy(first, first + rank, block);
      const Prefix one{value, len};
      fill(block[rank], depth + 4, &one, 1);
      std::copy(first + rank, first + k, block + rank + 1);
    }
    garbage_nodes_ += k;
    store(node->link, make_link(map | (1U << c), block), std::memory_order_release);
    return;
  }
}

// Where a walk stops at depth d: bit d + 4 if that is the full width and the key's chunk
// has ext = 4, i.e. a full-width prefix matches (such prefixes end in the last level
// instead of in a leaf node of their own). Above the last level ext = 4 with no child only
// happens while add() is linking a new block, and means nothing yet.
static std::uint64_t full_width(unsigned info, unsigned d, unsigned width) {
  return std::uint64_t{d + 4 == width && ((info >> 4) & 7) == 4} << ((d + 4) & 63);
}

// A walk (at most 60 bits wide) ending in a tail: the length bit, if its prefix matches
// key (the top 64 bits of the key), and *bits: the length on a match, else the agreeing
// bits plus the first one that differs (the prefix goes on past them).
std::uint64_t PrefixTrie::tail64(const Node& n, std::uint64_t link, std::uint64_t key,
                                 unsigned* bits) {
  std::uint64_t v;
  std::memcpy(&v, n.info.data() + 8, sizeof v);  // the top half of the value
  const unsigned len = static_cast<unsigned>(link >> 16) - 1;
  const std::uint64_t x = key ^ v;
  const unsigned agree = x == 0 ? 64 : static_cast<unsigned>(std::countl_zero(x));
  if (agree >= len) {
    *bits = len;
    return 1ULL << len;
  }
  *bits = agree + 1;
  return 0;
}

// The walk of a trie at most 60 bits wide, from `node` at depth d with lengths p found
// above it: returns the lengths, sets *bits.
std::uint64_t PrefixTrie::walk64(const Node* node, std::uint64_t k, unsigned d, std::uint64_t p,
                                 unsigned width, unsigned* bits) {
  for (;; d += 4) {
    const unsigned c = static_cast<unsigned>(k >> (60 - d)) & 0xf;
    const unsigned info = load(node->info[c], std::memory_order_relaxed);
    const std::uint64_t link = load(node->link, std::memory_order_acquire);
    if (((link >> c) & 1) != 0) {
      p |= std::uint64_t{info & 0xfU} << d;  // lengths d..d+3 ending here
      node = link_first(link) + std::popcount(link & ((1U << c) - 1));
      continue;
    }
    if (is_tail(link)) return p | tail64(*node, link, k, bits);
    *bits = std::min(d + ((info >> 4) & 7) + (info >> 7), width);
    return p | std::uint64_t{info & 0xfU} << d | full_width(info, d, width);
  }
}

void PrefixTrie::lookup(u128 key, Plens* plens, unsigned* bits) const {
  *plens = {};
  // An empty trie has a zero root: no lengths, 0 bits.
  const Node* node = &root_;
  if (width_ <= 60) {
    // IPv4: 64-bit arithmetic; depths stay below 64, so every length is in plens[0].
    (*plens)[0] = walk64(node, static_cast<std::uint64_t>(key >> 64), 0, 0, width_, bits);
    return;
  }
  for (unsigned d = 0;; d += 4) {
    const unsigned c = chunk(key, d);
    const unsigned info = load(node->info[c], std::memory_order_relaxed);
    const std::uint64_t link = load(node->link, std::memory_order_acquire);
    if (is_tail(link)) {
      u128 v;
      std::memcpy(&v, node->info.data(), sizeof v);
      const unsigned len = static_cast<unsigned>(link >> 16) - 1;
      const unsigned agree = lcp(key, v);
      if (agree >= len) {
        (*plens)[len >> 6] |= 1ULL << (len & 63);
        *bits = len;
      } else {
        *bits = agree + 1;
      }
      return;
    }
    (*plens)[d >> 6] |= std::uint64_t{info & 0xfU} << (d & 63);
    if (((link >> c) & 1) == 0) {
      (*plens)[(d + 4) >> 6] |= full_width(info, d, width_);
      // The path ends after ext bits; the next bit matters only if a stored prefix that
      // agrees so far goes on (Open vSwitch's leaf rule).
      *bits = std::min(d + ((info >> 4) & 7) + (info >> 7), width_);
      return;
    }
    node = link_first(link) + std::popcount(link & ((1U << c) - 1));
  }
}

// The IPv4 walk of lookup(), for two tries at once: one step of each walk per iteration
// while both go on, then each finishes alone (walk64()). The two chains of dependent loads
// are independent, so the CPU overlaps their misses instead of paying them one by one.
void PrefixTrie::lookup_pair(const PrefixTrie& a, u128 ka, Plens* pa, unsigned* ba,
                             const PrefixTrie& b, u128 kb, Plens* pb, unsigned* bb) {
  if (a.width_ > 60 || b.width_ > 60) {
    a.lookup(ka, pa, ba);
    b.lookup(kb, pb, bb);
    return;
  }
  // Both walks step while both nodes have a child for the key; the one that stops (or
  // both) and the other one then finish alone from where they are.
  const Node* x = &a.root_;
  const Node* y = &b.root_;
  const auto kx = static_cast<std::uint64_t>(ka >> 64), ky = static_cast<std::uint64_t>(kb >> 64);
  std::uint64_t px = 0, py = 0;
  unsigned d = 0;
  for (;; d += 4) {
    const unsigned cx = static_cast<unsigned>(kx >> (60 - d)) & 0xf;
    const unsigned cy = static_cast<unsigned>(ky >> (60 - d)) & 0xf;
    const unsigned ix = load(x->info[cx], std::memory_order_relaxed);
    const unsigned iy = load(y->info[cy], std::memory_order_relaxed);
    const std::uint64_t lx = load(x->link, std::memory_order_acquire);
    const std::uint64_t ly = load(y->link, std::memory_order_acquire);
    if (((lx >> cx) & (ly >> cy) & 1) == 0) break;
    px |= std::uint64_t{ix & 0xfU} << d;
    py |= std::uint64_t{iy & 0xfU} << d;
    x = link_first(lx) + std::popcount(lx & ((1U << cx) - 1));
    y = link_first(ly) + std::popcount(ly & ((1U << cy) - 1));
  }
  *pa = {walk64(x, kx, d, px, a.width_, ba), 0, 0};
  *pb = {walk64(y, ky, d, py, b.width_, bb), 0, 0};
}

}  // namespace vsw::classifier
