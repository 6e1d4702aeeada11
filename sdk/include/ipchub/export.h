/*
 * IPCHUB_API marks what libipchub promises to its users. The library is built
 * with hidden visibility (and a linker version script, sdk/libipchub.map), so
 * a declaration without this mark is not part of the ABI, whatever header it
 * is in. tests/exports/ fails the build's tests when the two disagree.
 */
#ifndef IPCHUB_EXPORT_H
#define IPCHUB_EXPORT_H

#if defined(__GNUC__)
#define IPCHUB_API __attribute__((visibility("default")))
/* For a member of an exported class that only the library itself calls. */
#define IPCHUB_LOCAL __attribute__((visibility("hidden")))
#else
#define IPCHUB_API
#define IPCHUB_LOCAL
#endif

#endif /* IPCHUB_EXPORT_H */
