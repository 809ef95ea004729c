/* Arena: alignment, zeroing, large blocks, strings, vectors. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "util/arena.h"

Test(arena, allocations_are_16_byte_aligned_and_zeroed)
{
    Arena a;
    arena_init(&a);
    for (size_t n = 1; n < 200; n += 7) {
        unsigned char *p = arena_alloc(&a, n);
        cr_assert_eq((uintptr_t)p % 16, 0, "size %zu", n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(p[i], 0);
        memset(p, 0xAB, n);
    }
    arena_free(&a);
}

Test(arena, zero_size_gives_distinct_pointers)
{
    Arena a;
    arena_init(&a);
    void *p = arena_alloc(&a, 0), *q = arena_alloc(&a, 0);
    cr_assert_not_null(p);
    cr_assert_neq(p, q);
    arena_free(&a);
}

Test(arena, large_blocks)
{
    Arena a;
    arena_init(&a);
    char *small = arena_alloc(&a, 100);
    memset(small, 1, 100);
    size_t big = 1u << 20;
    unsigned char *p = arena_alloc(&a, big);
    cr_assert_eq((uintptr_t)p % 16, 0);
    cr_assert_eq(p[0], 0);
    cr_assert_eq(p[big - 1], 0);
    memset(p, 0xFF, big);
    /* The current block keeps serving small requests after a big one. */
    char *after = arena_alloc(&a, 16);
    cr_assert_eq(after[0], 0);
    cr_assert_eq(small[99], 1);
    cr_assert_geq(a.total, big + 100);
    arena_free(&a);
    cr_assert_null(a.head);
}

Test(arena, large_block_first)
{
    Arena a;
    arena_init(&a);
    unsigned char *p = arena_alloc(&a, 300000);
    p[299999] = 7;
    unsigned char *q = arena_alloc(&a, 32);
    cr_assert(q + 32 <= p || q >= p + 300000, "no overlap");
    arena_free(&a);
}

Test(arena, many_blocks)
{
    Arena a;
    arena_init(&a);
    int *prev = NULL;
    for (int i = 0; i < 100000; i++) {
        int *p = ARENA_NEW(&a, int);
        *p = i;
        if (prev)
            cr_assert_eq(*prev, i - 1);
        prev = p;
    }
    arena_free(&a);
}

Test(arena, strdup_and_strndup)
{
    Arena a;
    arena_init(&a);
    char *s = arena_strdup(&a, "kernel");
    cr_assert_str_eq(s, "kernel");
    char *t = arena_strndup(&a, "matmul(A)", 6);
    cr_assert_str_eq(t, "matmul");
    char *e = arena_strdup(&a, "");
    cr_assert_str_eq(e, "");
    arena_free(&a);
}

Test(arena, printf)
{
    Arena a;
    arena_init(&a);
    char *s = arena_printf(&a, "%s:%d", "x", 42);
    cr_assert_str_eq(s, "x:42");
    char *big = arena_printf(&a, "%5000d", 1);
    cr_assert_eq(strlen(big), 5000);
    arena_free(&a);
}

Test(arena, vec_push_grows_and_keeps_order)
{
    Arena a;
    arena_init(&a);
    PtrVec v = {0};
    static int items[1000];
    for (int i = 0; i < 1000; i++)
        vec_push(&a, &v, &items[i]);
    cr_assert_eq(v.len, 1000);
    cr_assert_geq(v.cap, 1000);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(v.items[i], &items[i]);
    arena_free(&a);
}

Test(arena, free_twice_is_safe)
{
    Arena a;
    arena_init(&a);
    arena_alloc(&a, 10);
    arena_free(&a);
    arena_free(&a);
    cr_assert_null(a.head);
    cr_assert_eq(a.total, 0);
}
