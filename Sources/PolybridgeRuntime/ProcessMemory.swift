import CProcess

/// This process's heap.
public enum ProcessMemory {
    /// Returns the heap's free pages to the kernel. A worker's malloc keeps freed memory for the
    /// next chunk (see its environment); after a large temporary that will not come again, this
    /// lets the process shrink to what it holds.
    public static func trim() {
        pb_heap_trim()
    }
}
