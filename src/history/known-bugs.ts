// The catalogue of the bugs zonedev finds that are known upstream: for each, what it is, the
// commit that introduced it and the one that fixed it (subject and id, as the upstream commit
// and its Fixes: tag give them; an id is left out where only a linux-next id was found), and
// the model's patch ids that bisect names for them. A finding matching an entry is "known"; a
// finding matching none, or an entry that upstream has not fixed, is "new".
//
// Built from bisect over the modelled series and from the upstream commits, their Fixes:
// tags and the stable backports ("[ Upstream commit … ]"), read for each entry.

export interface UpstreamCommit {
  readonly subject: string;
  /** The upstream commit id (12 or 40 hex digits), where known. */
  readonly commit?: string;
}

export interface KnownBug {
  /** A short name, stable across titles: tests and waivers may use it. */
  readonly id: string;
  readonly kind: string;
  /** Matches the finding's description (the model's line), which names the object and the place. */
  readonly match: RegExp;
  readonly summary: string;
  /**
   * 'fixed': an upstream commit fixes it; 'removed': an upstream change made it unreachable
   * without naming it; 'unfixed': present on the newest tree, no upstream fix; 'not-a-bug':
   * the kernel's intended reaction to an injected failure; 'not-merged': found on a what-if
   * patch modelled from a proposal that was never merged (its review found it too; `fixedBy` is
   * what was merged instead).
   */
  readonly upstream: 'fixed' | 'removed' | 'unfixed' | 'not-a-bug' | 'not-merged';
  /** A function the finding's call stack must hold (two hangs on one completion, told apart by where they wait). */
  readonly within?: string;
  readonly introducedBy?: UpstreamCommit;
  readonly fixedBy?: UpstreamCommit;
  /** The seed document that describes it. */
  readonly seed?: string;
  /** A candidate fix modelled as a what-if patch (patches.ts WHAT_IF): `--tree <tree>+<id>`. */
  readonly candidateFix?: string;
}

const SUPPORT_P2P: UpstreamCommit = { subject: 'PCI/P2PDMA: Support peer-to-peer memory', commit: '52916982af48' };
const PER_RESOURCE: UpstreamCommit = { subject: 'PCI/P2PDMA: track pgmap references per resource, not globally', commit: '1570175abd16' };
const FINAL_PUT_RACE: UpstreamCommit = { subject: 'mm/devm_memremap_pages: fix final page put race', commit: '50f44ee7248a' };
const RCU_CONVERSION: UpstreamCommit = { subject: 'PCI/P2PDMA: Finish RCU conversion of pdev->p2pdma', commit: 'ae21f835a5bda0ef1d00940373445693a764d89e' };
const MAP_TYPES: UpstreamCommit = { subject: 'PCI/P2PDMA: Store mapping method in an xarray' };
const ALLOCATE_MMAP: UpstreamCommit = { subject: 'PCI/P2PDMA: Allow userspace VMA allocations through sysfs', commit: '7e9c7ef83d785236f5a8c3761dd053fae9b92fb8' };
const REFCOUNT_INIT: UpstreamCommit = { subject: 'mm/mm_init: move p2pdma page refcount initialisation to p2pdma', commit: 'b7e2823787735ca009e63f35f164b46df0ef096c' };

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: 'memmap-removed',
    kind: 'panic',
    match: /^BUG: unable to handle page fault: read of struct page \(pfn 0x[0-9a-f]+\)\.pgmap, whose memmap has been removed$/,
    summary: 'devm_memremap_pages_release() runs arch_remove_memory() before the last page reference is dropped: a p2pmem user touches a struct page that no longer exists',
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: FINAL_PUT_RACE,
    seed: '002',
  },
  {
    id: 'refcount-after-memmap-removed',
    kind: 'panic',
    match: /^BUG: unable to handle page fault: read of struct page \(pfn 0x[0-9a-f]+\)\._refcount, whose memmap has been removed$/,
    summary: 'free_zone_device_folio() resets the page count after p2pdma_page_free() dropped the last pgmap reference, racing memunmap_pages()',
    upstream: 'removed',
    introducedBy: ALLOCATE_MMAP,
    fixedBy: REFCOUNT_INIT,
  },
  {
    id: 'null-p2pdma',
    kind: 'panic',
    match: /^BUG: kernel NULL pointer dereference: pdev->p2pdma in pci_alloc_p2pmem$/,
    summary: 'pci_alloc_p2pmem() loads pdev->p2pdma twice; pci_p2pdma_release() clears it in between',
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'null-p2pdma-size_show',
    kind: 'panic',
    match: /^BUG: kernel NULL pointer dereference: pdev->p2pdma->pool in size_show$/,
    summary: 'size_show() dereferences pdev->p2pdma unchecked after pci_p2pdma_release() cleared it',
    upstream: 'fixed',
    introducedBy: PER_RESOURCE,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'null-p2pdma-has_p2pmem',
    kind: 'panic',
    match: /^BUG: kernel NULL pointer dereference: pdev->p2pdma in pci_has_p2pmem$/,
    summary: 'pci_has_p2pmem() (pci_p2pmem_find_many()) tests pdev->p2pdma and loads it again for p2pmem_published; pci_p2pdma_release() clears it in between',
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'p2pdma-freed-has_p2pmem',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct pci_p2pdma\.p2pmem_published \(allocated by devm_kmalloc\)$/,
    summary: "pci_has_p2pmem() (pci_p2pmem_find_many()) reads pdev->p2pdma->p2pmem_published with no RCU while the unbind frees the pci_p2pdma devres",
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'pool-freed-size_show',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct gen_pool\.chunks \(allocated by gen_pool_create\)$/,
    summary: 'pci_p2pdma_release() destroys the pool before removing the sysfs group: size_show() walks a freed gen_pool',
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'pgmap-freed-map_sg',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct dev_pagemap\.pci_p2pdma_bus_offset \(allocated by devm_kmalloc\)$/,
    summary: "the client's pci_p2pdma_map_sg() reads the pgmap devres freed at unbind while it holds a page",
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: PER_RESOURCE,
    seed: '001',
  },
  {
    id: 'p2pdma-freed',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct pci_p2pdma\.devmap_ref\.percpu_count_ptr/,
    summary: 'pci_alloc_p2pmem() uses the per-device percpu_ref in the pci_p2pdma devres freed by pci_p2pdma_release()',
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: PER_RESOURCE,
    seed: '001',
  },
  {
    id: 'pgmap-freed-release',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct dev_pagemap\.dev \(allocated by devm_kmalloc\)$/,
    summary: 'after a failed gen_pool_add_virt() the pgmap is freed while devm_memremap_pages_release() is still queued to run on it',
    upstream: 'fixed',
    introducedBy: SUPPORT_P2P,
    fixedBy: { subject: 'PCI/P2PDMA: fix the gen_pool_add_virt() failure path' },
    seed: '001',
  },
  {
    id: 'devmap_ref_done-in-kill',
    kind: 'hang',
    match: /^task hung: driver in wait_for_completion waits for completion p2pdma->devmap_ref_done(; .*)?$/,
    within: 'pci_p2pdma_percpu_kill',
    summary:
      "with the wait moved into pci_p2pdma_percpu_kill() (what-if p2pdma-wait-in-kill), the first pgmap's kill waits for page references of a pgmap whose release has not run yet (two BARs at unbind; the first BAR's pages when the second add_resource fails in the probe)",
    upstream: 'not-merged',
    introducedBy: { subject: 'PCI/P2PDMA: wait for the devmap_ref in the kill callback, after the last put_page() (the seed 002 thread, not merged)' },
    fixedBy: FINAL_PUT_RACE,
    seed: '002',
  },
  {
    id: 'null-p2pdma-release-v1',
    kind: 'panic',
    match: /^BUG: kernel NULL pointer dereference: pdev->p2pdma->pool in pci_p2pdma_release$/,
    summary: 'v1 of "Track pgmap references per resource" (what-if p2pdma-per-resource-ref-v1): pci_p2pdma_release() reads pdev->p2pdma->pool after setting pdev->p2pdma to NULL',
    upstream: 'not-merged',
    introducedBy: { subject: 'PCI/P2PDMA: Track pgmap references per resource, not globally (v1, 2019-03-29)' },
    fixedBy: PER_RESOURCE,
    seed: '001',
  },
  {
    id: 'devmap_ref_done',
    kind: 'hang',
    match: /^task hung: driver in wait_for_completion waits for completion p2pdma->devmap_ref_done$/,
    summary: 'a BAR whose pgmap was never set up leaves the per-device reference alive: pci_p2pdma_release() waits forever',
    upstream: 'removed',
    introducedBy: SUPPORT_P2P,
    fixedBy: PER_RESOURCE,
  },
  {
    id: 'devmap_ref-percpu',
    kind: 'leak',
    match: /^kmemleak: unreferenced object per-CPU counters of p2pdma->devmap_ref \(allocated by percpu_ref_init\)$/,
    summary: "pci_p2pdma_setup()'s error path does not percpu_ref_exit() the per-device reference",
    upstream: 'removed',
    introducedBy: SUPPORT_P2P,
    fixedBy: PER_RESOURCE,
  },
  {
    id: 'confirm_switch-exit',
    kind: 'warn',
    match: /^WARNING: at lib\/percpu-refcount\.c percpu_ref_exit: WARN_ON_ONCE\(ref->confirm_switch\)$/,
    summary: 'between the two halves of the series, percpu_ref_exit() of a resource reference can run before its kill is confirmed',
    upstream: 'fixed',
    introducedBy: PER_RESOURCE,
    fixedBy: FINAL_PUT_RACE,
    seed: '001',
  },
  {
    id: 'ref_done-freed',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct p2pdma_pagemap\.ref_done \(allocated by devm_kmalloc\)$/,
    summary: 'between the two halves of the series, the release path waits on a completion inside a freed p2pdma_pagemap',
    upstream: 'fixed',
    introducedBy: PER_RESOURCE,
    fixedBy: FINAL_PUT_RACE,
    seed: '001',
  },
  {
    id: 'chunk-owner-freed',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct (p2pdma_pagemap\.ref|pci_p2pdma_pagemap\.pgmap\.ref)\.percpu_count_ptr/,
    summary:
      "the pool's chunk owner is the percpu_ref inside the pagemap; the pagemap's devres is freed at unbind before pci_p2pdma_release() removes the chunk, so pci_alloc_p2pmem() takes a chunk whose owner was freed and calls percpu_ref_tryget_live() (v5.2) or percpu_ref_tryget_live_rcu() (v6) on it",
    upstream: 'unfixed',
    introducedBy: PER_RESOURCE,
    candidateFix: 'p2pdma-free-pagemap-with-pool',
  },
  {
    id: 'null-p2pdma-distance',
    kind: 'panic',
    match: /^BUG: kernel NULL pointer dereference: provider->p2pdma in upstream_bridge_distance$/,
    summary: "upstream_bridge_distance() tests provider->p2pdma and loads it again for the xa_store() of the map type; pci_p2pdma_release() clears it in between (a client's distance check, nvmet's configuration, against the provider's unbind)",
    upstream: 'fixed',
    introducedBy: MAP_TYPES,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'p2pdma-freed-distance',
    kind: 'kasan',
    match: /^BUG: KASAN: use-after-free: read of struct pci_p2pdma\.map_types/,
    within: 'upstream_bridge_distance',
    summary: "upstream_bridge_distance() stores the map type in provider->p2pdma->map_types with no RCU: pci_p2pdma_release()'s synchronize_rcu() does not wait for it, and devres frees the pci_p2pdma under the store",
    upstream: 'fixed',
    introducedBy: MAP_TYPES,
    fixedBy: RCU_CONVERSION,
  },
  {
    id: 'map_types-unknown-warn',
    kind: 'warn',
    match: /^WARNING: at drivers\/pci\/p2pdma\.c pci_p2pdma_map_sg_attrs: WARN_ON_ONCE\(1\)$/,
    summary:
      "the verbose distance check's kmalloc(PAGE_SIZE) fails: upstream_bridge_distance_warn() returns -ENOMEM, which pci_p2pdma_distance_many() takes for a distance, and no map type is cached; the client's pci_p2pdma_map_sg_attrs() then finds UNKNOWN, WARN_ON_ONCE(1)s and maps nothing (the allocation went with e4ece59abd70, v5.14; an UNKNOWN type is calculated since 719c98658058)",
    upstream: 'fixed',
    introducedBy: { subject: 'PCI/P2PDMA: dma_map() requests that traverse the host bridge' },
    fixedBy: { subject: 'PCI/P2PDMA: Attempt to set map_type if it has not been set', commit: '719c98658058' },
  },
  {
    id: 'map_types-sleep-in-rcu',
    kind: 'bug',
    match: /^BUG: sleeping function called from invalid context at include\/linux\/sched\/mm\.h$/,
    within: 'calc_map_type_and_dist',
    summary:
      "calc_map_type_and_dist() caches the map type with xa_store(..., GFP_KERNEL) inside the rcu_read_lock() section the RCU conversion put around it; when the first store's non-blocking node allocation fails, __xas_nomem() retries with GFP_KERNEL, which may sleep",
    upstream: 'fixed',
    introducedBy: RCU_CONVERSION,
    fixedBy: { subject: 'PCI/P2PDMA: Fix a sleeping issue in a RCU read section', commit: '1e5c66afd4a40bb7be17cb33cbb1a1085f727730' },
  },
  {
    id: 'add_pages',
    kind: 'warn',
    match: /^WARNING: at arch\/x86\/mm\/init_64\.c add_pages: WARN_ON_ONCE\(ret\)$/,
    summary: "add_pages() warns when the memmap allocation (sparse_add_section()) fails: the kernel's own report of the injected failure",
    upstream: 'not-a-bug',
  },
  {
    id: 'devm_kfree-member',
    kind: 'warn',
    match: /^WARNING: at drivers\/base\/devres\.c devm_kfree: WARN_ON\(rc\)$/,
    summary: "pci_p2pdma_add_resource()'s error path devm_kfree()s the pgmap member, not the allocation; it warns once pgmap is not the first member",
    upstream: 'fixed',
    introducedBy: { subject: 'PCI/P2PDMA: Fix undefined behavior bug in struct pci_p2pdma_pagemap', commit: '4a7ce8334965bf175344f49bb933e45fa4db02f5' },
    fixedBy: { subject: 'PCI/P2PDMA: Fix incorrect pointer usage in devm_kfree() call', commit: '6238784e502b6a9fbeb3a6b77284b29baa4135cc' },
  },
  {
    id: 'inverted-vm-warn',
    kind: 'warn',
    match: /^WARNING: at drivers\/pci\/p2pdma\.c p2pmem_alloc_mmap: VM_WARN_ON_ONCE_PAGE\(!page_ref_count\(page\)\)$/,
    summary: 'p2pmem_alloc_mmap() warns on every freshly allocated page: the condition is inverted',
    upstream: 'fixed',
    introducedBy: REFCOUNT_INIT,
    fixedBy: { subject: 'PCI/P2PDMA: Fix p2pmem_alloc_mmap() warning condition', commit: 'cb500023a75246f60b79af9f7321d6e75330c5b5' },
    seed: '000',
  },
  {
    id: 'pgmap-done',
    kind: 'hang',
    match: /^task hung: driver in wait_for_completion waits for completion pgmap->done$/,
    summary: 'a vm_insert_page() failure in p2pmem_alloc_mmap() leaks a pgmap reference: memunmap_pages() waits forever at unbind',
    upstream: 'fixed',
    introducedBy: ALLOCATE_MMAP,
    fixedBy: { subject: 'PCI/P2PDMA: Release per-CPU pgmap ref when vm_insert_page() fails', commit: '6220694c52a5a04102b48109e4f24e958b559bd3' },
    seed: '000',
  },
];

/** A catalogue entry by its id. */
export function knownBugById(id: string | undefined): KnownBug | undefined {
  return id === undefined ? undefined : KNOWN_BUGS.find((b) => b.id === id);
}

/** The catalogue entry a finding is, by its kind and description (and its call stack, for an entry that names a function). */
export function knownBug(kind: string, description: string, stack: readonly string[] = []): KnownBug | undefined {
  return KNOWN_BUGS.find((b) => b.kind === kind && b.match.test(description) && (b.within === undefined || stack.includes(b.within)));
}

/** "known" when upstream has fixed it, removed it or intends it; "new" otherwise. */
export function origin(bug: KnownBug | undefined): 'known' | 'new' {
  return bug !== undefined && bug.upstream !== 'unfixed' ? 'known' : 'new';
}

/** A commit as a kernel developer cites it: 12 hex digits and the subject. */
export function cite(c: UpstreamCommit): string {
  return c.commit ? `${c.commit.slice(0, 12)} ("${c.subject}")` : `"${c.subject}" (commit id not known)`;
}

/** What makes two findings one bug: their catalogue entry, or else their kind and description. */
export function bugKey(f: { readonly kind: string; readonly description: string; readonly bug?: string }): string {
  return f.bug ?? `${f.kind}\u0000${f.description}`;
}
