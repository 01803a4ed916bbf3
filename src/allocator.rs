//! The component's global allocator: a bump allocator that starts in the
//! free tail of the initial linear memory and rewinds whenever every
//! allocation has been freed, which happens at the end of each export call.
//!
//! Why not a general-purpose allocator: a call makes a handful of short-lived
//! allocations and frees all of them before it returns. dlmalloc and
//! lol_alloc both take fresh pages with `memory.grow` rather than use the
//! initial memory's tail, and in a pooled wasmtime host every grown page
//! costs an `mprotect` on growth and a reset when the instance is dropped:
//! about a third of a fresh-instance call (see the README's figures). This
//! allocator needs no growth for an ordinary call, still grows for large
//! inputs, and is a few hundred bytes.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

const PAGE: usize = 65536;

pub struct BumpAllocator {
    /// Next free address; 0 until first use.
    next: Cell<usize>,
    /// End of the memory this allocator may use without growing.
    end: Cell<usize>,
    /// Where the heap starts, to rewind to.
    base: Cell<usize>,
    /// Allocations not yet freed.
    live: Cell<usize>,
}

// SAFETY: a component instance runs on a single thread; nothing here is
// shared across threads.
unsafe impl Sync for BumpAllocator {}

impl BumpAllocator {
    pub const fn new() -> Self {
        BumpAllocator {
            next: Cell::new(0),
            end: Cell::new(0),
            base: Cell::new(0),
            live: Cell::new(0),
        }
    }

    fn start(&self) {
        unsafe extern "C" {
            static __heap_base: u8;
        }
        // `__heap_base` is defined by the wasm linker; only its address is
        // taken, never its value.
        let base = core::ptr::addr_of!(__heap_base) as usize;
        self.base.set(base);
        self.next.set(base);
        self.end.set(core::arch::wasm32::memory_size(0) * PAGE);
    }
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.base.get() == 0 {
            self.start();
        }
        let Some(start) = self.next.get().checked_next_multiple_of(layout.align()) else {
            return core::ptr::null_mut();
        };
        let Some(stop) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if stop > self.end.get() {
            let pages = (stop - self.end.get()).div_ceil(PAGE);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            self.end.set(self.end.get() + pages * PAGE);
        }
        self.next.set(stop);
        self.live.set(self.live.get() + 1);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let live = self.live.get() - 1;
        self.live.set(live);
        if live == 0 {
            // Everything is free: the whole heap is reusable.
            self.next.set(self.base.get());
        } else if ptr as usize + layout.size() == self.next.get() {
            // The latest allocation: give its space back at once.
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Grow or shrink the latest allocation in place.
        if ptr as usize + layout.size() == self.next.get()
            && let Some(stop) = (ptr as usize).checked_add(new_size)
            && stop <= self.end.get()
        {
            self.next.set(stop);
            return ptr;
        }
        // SAFETY: as GlobalAlloc::realloc's default: a new block, a copy,
        // and the old block freed.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
