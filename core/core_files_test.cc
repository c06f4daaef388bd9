#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "core/atomic_file.h"
#include "core/file_lock.h"
#include "core/sha256.h"

namespace dreamshot::core {
namespace {

std::string Temp(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid());
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string path = Temp("sha");
  ASSERT_TRUE(WriteFileAtomically(path, std::string(3 << 20, 'x')).ok());
  EXPECT_EQ(*Sha256HexOfFile(path), Sha256Hex(std::string(3 << 20, 'x')));
  EXPECT_EQ(Sha256HexOfFile(Temp("missing")).status().code(), absl::StatusCode::kNotFound);
}

TEST(AtomicFileTest, ReplacesWholeFileAndLeavesNoTemp) {
  const std::string dir = Temp("atomic") + "/a/b";
  ASSERT_TRUE(MakeDirectories(dir).ok());
  const std::string path = dir + "/f.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(Slurp(path), "second");
  ASSERT_TRUE(CopyFileAtomically(path, dir + "/copy.txt").ok());
  EXPECT_EQ(Slurp(dir + "/copy.txt"), "second");
  EXPECT_EQ(CopyFileAtomically(dir + "/nope", dir + "/x").code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(WriteFileAtomically("/proc/definitely/not/here", "x").ok());
  // A file where a folder should be is an error that names it.
  absl::Status s = MakeDirectories(path);
  EXPECT_FALSE(s.ok());
}

TEST(FileLockTest, SecondHolderIsRefusedUntilRelease) {
  const std::string path = Temp("lock");
  auto first = FileLock::Acquire(path);
  ASSERT_TRUE(first.ok());
  auto second = FileLock::Acquire(path);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(second.status().message()).find(std::to_string(::getpid())), std::string::npos);
  first->reset();
  EXPECT_TRUE(FileLock::Acquire(path).ok());
}

}  // namespace
}  // namespace dreamshot::core
