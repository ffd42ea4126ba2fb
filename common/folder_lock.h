// common/folder_lock.h — one writer per folder: an exclusive flock on FOLDER/.lock, held for the lifetime of
// the object. The kernel drops it when the process dies, so a stale lock from a killed run never blocks.
#pragma once

#include <string>

namespace st {

class FolderLock {
 public:
  // Takes the lock or fails with exit 2 naming the folder and the pid that holds it (written in the file).
  explicit FolderLock(const std::string& folder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace st
