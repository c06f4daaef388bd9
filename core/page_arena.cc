#include "core/page_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <iterator>

namespace dreamshot::core {

PageArena::PageArena() : page_(static_cast<size_t>(::sysconf(_SC_PAGESIZE))) {}

PageArena::~PageArena() {
  for (const auto& [base, size] : segments_) ::munmap(base, size);
}

void* PageArena::Allocate(size_t size, int64_t footprint_bound) {
  size = (size + page_ - 1) / page_ * page_;
  auto fit = resident_.lower_bound({size, nullptr});
  if (fit != resident_.end()) {
    ++stats_.hits;
    return Carve(fit, resident_, size);
  }
  const int64_t over = stats_.live_bytes + stats_.resident_free_bytes + static_cast<int64_t>(size) - footprint_bound;
  if (over > 0) TrimResidentFree(stats_.resident_free_bytes - over);
  ++stats_.misses;
  fit = released_.lower_bound({size, nullptr});
  if (fit != released_.end()) return Carve(fit, released_, size);
  void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    --stats_.misses;
    return nullptr;
  }
  char* base = static_cast<char*>(mapped);
  segments_[base] = size;
  stats_.mapped_bytes += static_cast<int64_t>(size);
  ranges_[base] = Range{size, base, State::kLive};
  stats_.live_bytes += static_cast<int64_t>(size);
  return base;
}

void* PageArena::Carve(FreeSet::iterator it, FreeSet& set, size_t size) {
  char* address = it->second;
  set.erase(it);
  Range& range = ranges_.at(address);
  if (range.state == State::kFreeResident) stats_.resident_free_bytes -= static_cast<int64_t>(range.size);
  if (range.size - size >= kMinSplitBytes) {
    // The tail stays free in the same state; it has no free neighbour (the
    // range was merged when it became free), so no merge is needed.
    Range rest{range.size - size, range.segment, range.state};
    ranges_[address + size] = rest;
    set.insert({rest.size, address + size});
    if (rest.state == State::kFreeResident) stats_.resident_free_bytes += static_cast<int64_t>(rest.size);
    range.size = size;
  }
  range.state = State::kLive;
  stats_.live_bytes += static_cast<int64_t>(range.size);
  return address;
}

bool PageArena::Free(void* p) {
  auto it = ranges_.find(static_cast<char*>(p));
  if (it == ranges_.end() || it->second.state != State::kLive) return false;
  stats_.live_bytes -= static_cast<int64_t>(it->second.size);
  MarkFree(it, State::kFreeResident);
  return true;
}

size_t PageArena::BlockSize(void* p) const {
  auto it = ranges_.find(static_cast<char*>(p));
  return it == ranges_.end() || it->second.state != State::kLive ? 0 : it->second.size;
}

void PageArena::MarkFree(RangeMap::iterator it, State state) {
  it->second.state = state;
  if (state == State::kFreeResident) stats_.resident_free_bytes += static_cast<int64_t>(it->second.size);
  it = MergeWithNeighbours(it);
  const Range& range = it->second;
  auto segment = segments_.find(range.segment);
  if (range.state == State::kFreeReleased && it->first == range.segment && range.size == segment->second) {
    // The whole segment is free and released: unmap it.
    ::munmap(segment->first, segment->second);
    stats_.mapped_bytes -= static_cast<int64_t>(segment->second);
    segments_.erase(segment);
    ranges_.erase(it);
    return;
  }
  FreeSetOf(range.state).insert({range.size, it->first});
}

// Merges the free range at `it` with free neighbours of the same state in
// the same segment (they leave their free set); returns the merged range.
PageArena::RangeMap::iterator PageArena::MergeWithNeighbours(RangeMap::iterator it) {
  const State state = it->second.state;
  auto mergeable = [&](RangeMap::iterator other) {
    return other != ranges_.end() && other->second.state == state && other->second.segment == it->second.segment;
  };
  auto next = std::next(it);
  if (mergeable(next) && it->first + it->second.size == next->first) {
    FreeSetOf(state).erase({next->second.size, next->first});
    it->second.size += next->second.size;
    ranges_.erase(next);
  }
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (mergeable(prev) && prev->first + prev->second.size == it->first) {
      FreeSetOf(state).erase({prev->second.size, prev->first});
      prev->second.size += it->second.size;
      ranges_.erase(it);
      it = prev;
    }
  }
  return it;
}

void PageArena::TrimResidentFree(int64_t keep_bytes) {
  while (stats_.resident_free_bytes > keep_bytes && !resident_.empty()) {
    ReleaseRange(std::prev(resident_.end())->second);
  }
}

void PageArena::ReleaseRange(char* address) {
  auto it = ranges_.find(address);
  Range& range = it->second;
  resident_.erase({range.size, address});
  stats_.resident_free_bytes -= static_cast<int64_t>(range.size);
  ::madvise(address, range.size, MADV_DONTNEED);
  MarkFree(it, State::kFreeReleased);
}

}  // namespace dreamshot::core
