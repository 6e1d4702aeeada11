// Compiled into libipchub-stray-exports.so together with the real client
// sources, but with default visibility and no version script: the library
// libipchub would be if the export rules were lost. Each definition below is
// exported as another nm symbol type, and check_exports.sh must name every
// one of them (see expect_rejected.sh in CMakeLists.txt).
#include <vector>

namespace ipchub::internal_detail {

int stray_function(int x) { return x + 1; } // T

int stray_counter = 1; // D
int stray_zeroed;      // B

extern const char stray_text[] = "not promised"; // R
const char *stray_text_address() { return stray_text; }

inline int &stray_unique() { // W, and its static is GNU unique (u)
    static int calls;
    return ++calls;
}
int &(*volatile keep_stray_unique)() = &stray_unique;

struct StrayPolymorphic { // typeinfo and vtable without a key function: V
    virtual ~StrayPolymorphic() = default;
    virtual int value() const { return 1; }
};
StrayPolymorphic *make_stray() { return new StrayPolymorphic; }

} // namespace ipchub::internal_detail
