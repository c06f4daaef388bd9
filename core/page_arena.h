// Large-block memory arena on pages mapped from the kernel (Linux).
//
// Blocks are carved out of mapped segments (best fit, split when at least
// kMinSplitBytes would be left over) and merged with free neighbours when
// freed, so a loop that allocates the same mix of shapes over and over (a
// UNet step) runs on the same pages each iteration without touching new
// ones, and its footprint stays near the peak of its live bytes instead of
// the sum of per-shape peaks. A free range is either resident (its pages
// were touched and are still backed; reusing it costs nothing) or released
// (handed back with madvise(MADV_DONTNEED) or never touched; reusing it
// faults fresh zero pages). Trimming releases resident free ranges, largest
// first, and unmaps segments that become entirely free.
//
// Not thread-safe: the owner (CachingCpuAllocator) holds a lock.
#ifndef DREAMSHOT_CORE_PAGE_ARENA_H_
#define DREAMSHOT_CORE_PAGE_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace dreamshot::core {

struct PageArenaStats {
  int64_t live_bytes = 0;           // in blocks handed out
  int64_t resident_free_bytes = 0;  // free, still backed by touched pages
  int64_t mapped_bytes = 0;         // all segments (virtual)
  int64_t hits = 0;                 // blocks served from resident free ranges
  int64_t misses = 0;               // blocks that needed fresh pages
};

class PageArena {
 public:
  static constexpr size_t kMinSplitBytes = size_t{1} << 20;

  PageArena();
  ~PageArena();
  PageArena(const PageArena&) = delete;
  PageArena& operator=(const PageArena&) = delete;

  // A page-aligned block of at least `size` bytes, or nullptr when the
  // system refuses memory. Fresh pages are taken only if live + resident
  // free + size stays within `footprint_bound`, after releasing resident
  // free ranges as needed; past that, the block is still returned.
  void* Allocate(size_t size, int64_t footprint_bound);
  // False when `p` is not a block of this arena.
  bool Free(void* p);
  // Bytes of the block at `p` (≥ the size asked for); 0 if not a block.
  size_t BlockSize(void* p) const;
  // Releases resident free ranges, largest first, until at most
  // `keep_bytes` of them stay resident.
  void TrimResidentFree(int64_t keep_bytes);

  const PageArenaStats& stats() const { return stats_; }

 private:
  enum class State { kLive, kFreeResident, kFreeReleased };
  struct Range {
    size_t size = 0;
    char* segment = nullptr;  // base of the mapping it lies in
    State state = State::kLive;
  };
  using RangeMap = std::map<char*, Range>;
  using FreeSet = std::set<std::pair<size_t, char*>>;  // (size, address)

  FreeSet& FreeSetOf(State state) { return state == State::kFreeResident ? resident_ : released_; }
  void* Carve(FreeSet::iterator it, FreeSet& set, size_t size);
  void MarkFree(RangeMap::iterator it, State state);
  RangeMap::iterator MergeWithNeighbours(RangeMap::iterator it);
  void ReleaseRange(char* address);

  size_t page_;
  RangeMap ranges_;                   // every range of every segment, by address
  std::map<char*, size_t> segments_;  // base → size
  FreeSet resident_, released_;
  PageArenaStats stats_;
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PAGE_ARENA_H_
