#include "runtime_dir.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ipchub::core {

namespace {

std::string octal(mode_t mode) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
    return buf;
}

std::string owner_and_mode(const struct stat &st) {
    return "owner uid " + std::to_string(st.st_uid) + ", mode " + octal(st.st_mode);
}

} // namespace

std::string check_own_dir(const std::string &path, uid_t uid) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "cannot inspect " + path + ": " + std::strerror(errno);
    if (S_ISLNK(st.st_mode))
        return path + " is a symbolic link (" + owner_and_mode(st) + "); the hub's directories must be real directories";
    if (!S_ISDIR(st.st_mode)) return path + " is not a directory (" + owner_and_mode(st) + ")";
    if (st.st_uid != uid)
        return path + " belongs to another user (" + owner_and_mode(st) + "; this hub runs as uid " + std::to_string(uid) +
               "): it could watch or redirect the hub's clients";
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return path + " is writable by other users (" + owner_and_mode(st) + "): it must not be group or world writable";
    return "";
}

std::string check_parent_dirs(const std::string &path, uid_t uid) {
    // "/a/b/c" -> "/", "/a", "/a/b"; a relative path starts at ".".
    std::string parent = path;
    while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
    size_t slash = parent.rfind('/');
    if (slash == std::string::npos) return "";
    parent = slash == 0 ? "/" : parent.substr(0, slash);
    std::vector<std::string> dirs{parent[0] == '/' ? "/" : "."};
    for (size_t next = parent.find('/', 1); next != std::string::npos; next = parent.find('/', next + 1))
        dirs.push_back(parent.substr(0, next));
    if (parent != "/") dirs.push_back(parent);
    for (const std::string &dir : dirs) {
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0) continue; // created later, by us
        if (S_ISLNK(st.st_mode) && st.st_uid != 0 && st.st_uid != uid)
            return dir + " is a symbolic link of another user (" + owner_and_mode(st) + ")";
        if (::stat(dir.c_str(), &st) != 0) continue;
        if (st.st_uid != 0 && st.st_uid != uid)
            return dir + " belongs to another user (" + owner_and_mode(st) + "; this hub runs as uid " +
                   std::to_string(uid) + "): that user could replace the hub's directory";
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
            return dir + " is writable by other users and not sticky (" + owner_and_mode(st) +
                   "): they could replace the hub's directory";
    }
    return "";
}

unsigned dir_mode_for(uint32_t file_mode) {
    unsigned mode = 0700;
    if (file_mode & 0060) mode |= 0010;
    if (file_mode & 0006) mode |= 0001;
    return mode;
}

} // namespace ipchub::core
