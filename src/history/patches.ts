// The modelled patches, in series order. Model code that differs between trees asks
// patched('<id>') with one of these ids, so grepping an id shows every hunk of its patch.
//
// A patch is either a real upstream commit (subject, commit id where known, date, and the seed
// that describes it), or a consolidated patch standing for a stretch of history whose exact
// steps do not matter to the scenarios (marked consolidated, with the upstream commits it
// stands for where known). What-if patches were proposed but never merged; they sit outside
// the main series.

export interface Patch {
  readonly id: string;
  readonly subject: string;
  /** Upstream commit id, where known. */
  readonly commit?: string;
  /** Date of the patch (of the commit or of its posting); '~' marks a date known only roughly. */
  readonly date: string;
  /** The seed document that describes it, if any. */
  readonly seed?: string;
  /** Stands for several upstream commits (listed in `summary`). */
  readonly consolidated?: boolean;
  /** What the patch changes in the model, in a sentence or two. */
  readonly summary: string;
  /** A what-if patch: the tree it is written against (check it as `--tree <base>+<id>`). */
  readonly base?: string;
}

export const SERIES: readonly Patch[] = [
  // Seed 001: "mm/devm_memremap_pages: Fix page release race", v2, 7 May 2019 (Dan Williams), merged for v5.2.
  {
    id: 'devres-release-action',
    subject: 'drivers/base/devres: Introduce devm_release_action()',
    date: '2019-05-07',
    seed: '001',
    summary: 'Adds devm_release_action(): remove a devres action and run it now.',
  },
  {
    id: 'devm-memunmap-pages',
    subject: 'mm/devm_memremap_pages: Introduce devm_memunmap_pages',
    date: '2019-05-07',
    seed: '001',
    summary: 'Adds devm_memunmap_pages(), so a driver can undo devm_memremap_pages() on its own error path.',
  },
  {
    id: 'p2pdma-fix-gen-pool-add-failure',
    subject: 'PCI/P2PDMA: Fix the gen_pool_add_virt() failure path',
    date: '2019-05-07',
    seed: '001',
    summary: 'pci_p2pdma_add_resource() unmaps the pages with devm_memunmap_pages() before freeing the pgmap when gen_pool_add_virt() fails.',
  },
  {
    id: 'genalloc-chunk-owners',
    subject: 'lib/genalloc: Introduce chunk owners',
    commit: '795ee30648c708502da9df637f83c33361d68dcc',
    date: '2019-05-07',
    seed: '001',
    summary: 'gen_pool_add_owner(), gen_pool_alloc_algo_owner(), gen_pool_free_owner(): a chunk carries a driver pointer returned on alloc and free.',
  },
  {
    id: 'p2pdma-per-resource-ref',
    subject: 'PCI/P2PDMA: Track pgmap references per resource, not globally',
    commit: '1570175abd16',
    date: '2019-05-07',
    seed: '001',
    summary: 'One percpu_ref and completion per p2pdma_pagemap instead of one per device; allocations find it as the chunk owner.',
  },
  {
    id: 'memremap-fix-final-page-put-race',
    subject: 'mm/devm_memremap_pages: Fix final page put race',
    commit: '50f44ee7248a',
    date: '2019-05-07',
    seed: '001',
    summary: 'Adds pgmap->ops->cleanup(): devm_memremap_pages_release() waits for the last page reference before arch_remove_memory().',
  },
  // Between v5.2 and v6.14.
  {
    id: 'percpu-ref-allow-reinit',
    subject: 'percpu_ref: introduce PERCPU_REF_ALLOW_REINIT flag',
    commit: '09ed79d6d75f',
    date: '~2019-05',
    summary: 'A ref may be switched back to percpu mode only if initialised with PERCPU_REF_ALLOW_REINIT (forced for INIT_ATOMIC and INIT_DEAD): __percpu_ref_switch_to_percpu() WARNs and stays atomic otherwise.',
  },
  {
    id: 'percpu-ref-release-early',
    subject: 'percpu_ref: release percpu memory early without PERCPU_REF_ALLOW_REINIT',
    commit: '7d9ab9b6adff',
    date: '~2019-05',
    summary: 'percpu_ref_call_confirm_rcu() frees the per-CPU counters (__percpu_ref_exit()) once a ref that may not be reinitialised has switched to atomic; percpu_ref_exit() is __percpu_ref_exit().',
  },
  {
    id: 'memremap-pgmap-owned-ref',
    subject: 'mm/memremap: the pgmap owns its reference count and waits for it in memunmap_pages()',
    date: '~2019-08',
    consolidated: true,
    summary:
      'v5.3 "memremap: provide an optional internal refcount in struct dev_pagemap" (24917f6b1041) and "PCI/P2PDMA: use the dev_pagemap internal refcount", with the v5.4 "PCI/P2PDMA: Support mapping through the host bridge" series (struct pci_p2pdma_pagemap a6e6fe6549f6 / 0afea3814358, the map_types xarray that the distance calculation fills, pci_p2pdma_map_sg_attrs() looking the type up): memremap_pages()/memunmap_pages() split from the devm wrappers; the pgmap has its own percpu_ref and completion; memunmap_pages() kills, drops the page references, waits, then removes the memmap. Also stands for b80892ca022e (v5.17, the pointer pgmap->ref to internal_ref goes; no P2PDMA path reads pgmap->ref after the teardown).',
  },
  {
    id: 'percpu-ref-normal-rcu',
    subject: 'percpu-refcount: Use normal instead of RCU-sched',
    date: '2019-11-08',
    summary: 'percpu_ref_get/put/tryget and friends enter a normal RCU read-side section (rcu_read_lock()) instead of rcu_read_lock_sched(); the switch to atomic waits with call_rcu() (v2 by Sebastian Andrzej Siewior, merged for v5.5).',
  },
  {
    id: 'percpu-ref-tryget-many',
    subject: 'percpu_ref: introduce percpu_ref_tryget_many()',
    commit: '4e5ef02317b1',
    date: '~2020-01',
    summary: 'Adds percpu_ref_tryget_many(ref, nr); percpu_ref_tryget() is percpu_ref_tryget_many(ref, 1).',
  },
  {
    id: 'percpu-ref-data',
    subject: 'percpu_ref: reduce memory footprint of percpu_ref in fast path',
    commit: '2b0d3d3e4fcf',
    date: '~2020-09',
    summary: 'The cold fields move to a struct percpu_ref_data that percpu_ref_init() kzalloc()s (a fault point) and percpu_ref_exit() frees under percpu_ref_switch_lock, stashing the count in percpu_count_ptr; percpu_ref_is_zero() goes out of line, under the lock.',
  },
  {
    id: 'percpu-ref-data-null-check',
    subject: "percpu_ref: don't refer to ref->data if it isn't allocated",
    commit: '7ea6bf2e6c40',
    date: '2020-10-09',
    summary: '__percpu_ref_exit() tests WARN_ON_ONCE(ref->data && ref->data->confirm_switch): no NULL dereference of a ref already exited.',
  },
  {
    id: 'percpu-ref-underflow-dump',
    subject: 'percpu_ref: Dump mem_dump_obj() info upon reference-count underflow',
    commit: '3375efeddf69',
    date: '~2021-01',
    summary: 'After the "<= 0 after switching to atomic" WARN, percpu_ref_switch_to_atomic_rcu() prints a percpu_ref underflow line (and mem_dump_obj()) for the first three underflows.',
  },
  {
    id: 'percpu-ref-is-dying',
    subject: "percpu_ref: Don't opencode percpu_ref_is_dying",
    commit: '9e9da02a68d4',
    date: '2021-05-11',
    summary: 'percpu_ref_resurrect() and friends test percpu_ref_is_dying(ref) instead of the DEAD bit by hand (the same test; the WARN names it).',
  },
  {
    id: 'p2pdma-rename-upstream-bridge-distance',
    subject: 'PCI/P2PDMA: Rename upstream_bridge_distance() and rework doc',
    commit: '6389d4374522',
    date: '2021-06',
    summary: 'upstream_bridge_distance() is calc_map_type_and_dist() (and upstream_bridge_distance_warn() goes into it, with d1b8dc09dd71 "PCI/P2PDMA: Simplify distance calculation"): the function name a report of the distance calculation shows.',
  },
  {
    id: 'p2pdma-acs-list-on-stack',
    subject: 'PCI/P2PDMA: Collect acs list in stack buffer to avoid sleeping',
    commit: 'e4ece59abd70',
    date: '2021-06',
    summary: "The verbose distance calculation's seq_buf is a 128-byte stack buffer: no kmalloc(PAGE_SIZE) any more, whose failure returned -ENOMEM, which pci_p2pdma_distance_many() took for a distance and which stored no map type.",
  },
  {
    id: 'p2pdma-rcu-pdev',
    subject: 'PCI/P2PDMA: pdev->p2pdma is RCU protected',
    commit: 'ae21f835a5bda0ef1d00940373445693a764d89e',
    date: '~2021-07',
    consolidated: true,
    summary: 'Readers of pdev->p2pdma use rcu_dereference under rcu_read_lock; release clears it and calls synchronize_rcu().',
  },
  {
    id: 'p2pdma-fix-bus-offset-sign',
    subject: 'PCI/P2PDMA: Apply bus offset correctly in DMA address calculation',
    commit: '3a19407913e8',
    date: '2021-09',
    summary: '__pci_p2pdma_map_sg() sets dma_address = sg_phys(s) + bus_offset (it subtracted the offset since v4.20).',
  },
  {
    id: 'percpu-ref-tryget-live-rcu',
    subject: 'percpu_ref: percpu_ref_tryget_live() version holding RCU',
    commit: '3b13c168186c',
    date: '2021-10-20',
    summary: 'Adds percpu_ref_tryget_live_rcu() for callers already in an RCU read-side section; percpu_ref_tryget_live() is rcu_read_lock(), it, rcu_read_unlock().',
  },
  {
    id: 'p2pdma-tryget-live-rcu',
    subject: 'PCI/P2PDMA: Use percpu_ref_tryget_live_rcu() inside RCU critical section',
    commit: '69f457b18fa2',
    date: '~2021-11',
    summary: "pci_alloc_p2pmem() takes the chunk owner's reference with percpu_ref_tryget_live_rcu(), inside its own rcu_read_lock() section.",
  },
  {
    id: 'zone-device-no-extra-refcount',
    subject: 'mm: remove the extra ZONE_DEVICE struct page refcount',
    commit: '27674ef6c73f0c9096a9827dc5d6ba9fc7808422',
    date: '~2022-02',
    consolidated: true,
    summary:
      'With its series (5cbf9942c963 "mm: generalize the pgmap based page_free infrastructure", 75e55d8a107e, 895749455f60, dc90f0846df4; v5.18): a ZONE_DEVICE page is free at refcount 0, not 1 — put_page() and release_pages() send it to free_zone_device_page() (WARN_ON_ONCE without ops->page_free; page_free; the count reset to 1); only FS_DAX stays devmap-managed and 1-based; memunmap_pages() drops the bulk pgmap references with percpu_ref_put_many() instead of a put_page() of every page.',
  },
  {
    id: 'mm-anon-exclusive',
    subject: 'mm/page-flags: reuse PG_mappedtodisk as PG_anon_exclusive for PageAnon() pages',
    commit: '78fbe906cc90',
    date: '~2022-05',
    summary: 'free_zone_device_page() clears PG_anon_exclusive of an anonymous (migrated device-private) page.',
  },
  {
    id: 'percpu-ref-init-cleanup',
    subject: 'percpu_ref_init(): clean ->percpu_count_ref on failure',
    commit: 'a91714312eb1',
    date: '2022-05-18',
    summary: 'When the kzalloc of ref->data fails, percpu_ref_init() sets percpu_count_ptr back to 0 after freeing the per-CPU counters, instead of leaving it pointing at them.',
  },
  {
    id: 'memremap-fix-memunmap-race',
    subject: 'mm/memremap: fix memunmap_pages() race with get_dev_pagemap()',
    commit: '1e57ffb6e3fd9583268c6462c4e3853575b21701',
    date: '2022-06-09',
    summary: 'memunmap_pages() calls percpu_ref_exit() after pageunmap_range() has emptied pgmap_array, so that get_dev_pagemap() cannot take a reference on per-CPU counters being freed.',
  },
  {
    id: 'p2pdma-set-map-type-if-unknown',
    subject: 'PCI/P2PDMA: Attempt to set map_type if it has not been set',
    commit: '719c98658058',
    date: '2022-07',
    summary: "pci_p2pdma_map_type() calculates the map type (calc_map_type_and_dist()) when map_types has none for the client, instead of returning UNKNOWN, for which pci_p2pdma_map_sg_attrs() did WARN_ON_ONCE(1) and mapped nothing.",
  },
  {
    id: 'p2pdma-dma-direct-map-sg',
    subject: 'PCI/P2PDMA: Introduce helpers for dma_map_sg implementations',
    commit: '5e180ff326b4',
    date: '2022-07',
    summary: 'With its series (f02ad36d4f76 "dma-direct: support PCI P2PDMA pages in dma-direct map_sg", 0d06132fc84b "PCI/P2PDMA: Remove pci_p2pdma_[un]map_sg()"): the DMA API maps p2pdma pages itself, dma_direct_map_sg() through pci_p2pdma_map_segment(), entry by entry; a client no longer calls pci_p2pdma_map_sg_attrs().',
  },
  {
    id: 'memremap-get-dev-pagemap-rcu',
    subject: 'mm/mremap_pages: save a few cycles in get_dev_pagemap()',
    commit: 'e7b72c48d677',
    date: '~2022-08',
    summary: "get_dev_pagemap() takes the pgmap's reference with percpu_ref_tryget_live_rcu() inside its rcu_read_lock() section.",
  },
  {
    id: 'zone-device-refcount-0-private',
    subject: 'mm/memremap: device private and coherent pages start with a zero refcount',
    commit: 'ef233450898f8893dafa193a9f3211fa077a3d05',
    date: '~2022-09',
    consolidated: true,
    summary: 'With 0dc45ca1ce18 ("mm/memremap.c: take a pgmap reference on page allocation"): MEMORY_DEVICE_PRIVATE/COHERENT pages are initialised with refcount 0, zone_device_page_init() takes a pgmap reference, and a freed one drops it; other types are reset to 1 on free; memunmap_pages() keeps no bulk references for PRIVATE/COHERENT.',
  },
  {
    id: 'p2pdma-allocate-mmap',
    subject: 'PCI/P2PDMA: Allow userspace VMA allocations through sysfs',
    commit: '7e9c7ef83d785236f5a8c3761dd053fae9b92fb8',
    date: '~2022-10',
    summary: 'Adds the p2pmem/allocate sysfs file whose mmap (p2pmem_alloc_mmap) inserts p2pmem pages into a process, and the unmapping of those mappings at unbind.',
  },
  {
    id: 'percpu-ref-call-rcu-hurry',
    subject: 'percpu-refcount: Use call_rcu_hurry() for atomic switch',
    commit: '343a72e5e37d',
    date: '~2022-11',
    summary: 'The switch to atomic queues its RCU callback with call_rcu_hurry() (lazy RCU must not delay it).',
  },
  {
    id: 'mm-less-noisy-hotplug',
    subject: 'mm: be less noisy during memory hotplug',
    date: '~2023-03',
    summary: "memmap_init_zone_device()'s \"initialised N pages in Tms\" line becomes a pr_debug() (Tomas Krcka, merged for v6.4): no longer in the kernel log.",
  },
  {
    id: 'p2pdma-gfp-atomic-in-rcu',
    subject: 'PCI/P2PDMA: Fix a sleeping issue in a RCU read section',
    commit: '1e5c66afd4a40bb7be17cb33cbb1a1085f727730',
    date: '2024-01-04',
    summary: 'calc_map_type_and_dist() stores the map type in provider->p2pdma->map_types with GFP_ATOMIC instead of GFP_KERNEL, inside the rcu_read_lock() section of ae21f835a5bd.',
  },
  {
    id: 'mm-page-count-check-in-validate',
    subject: 'mm/memory: move page_count() check into validate_page_before_insert()',
    date: '~2024-06',
    summary: "vm_insert_page()'s -EINVAL for a page with a zero refcount moves into validate_page_before_insert(), after the VM_MIXEDMAP checks (David Hildenbrand, merged for v6.11).",
  },
  {
    id: 'zone-device-folio',
    subject: 'mm: ZONE_DEVICE pages are freed through free_zone_device_folio()',
    date: '~2024',
    consolidated: true,
    summary: 'The free path of ZONE_DEVICE pages as of v6.14: folio_put() of a zone device folio calls free_zone_device_folio(), which calls ops->page_free and, by type, puts the pgmap reference or resets the count to 1.',
  },
  // Seed 000, merged for v6.15.
  {
    id: 'p2pdma-refcount-init-to-p2pdma',
    subject: 'mm/mm_init: move p2pdma page refcount initialisation to p2pdma',
    commit: 'b7e2823787735ca009e63f35f164b46df0ef096c',
    date: '2025-02-05',
    seed: '000',
    summary: 'P2PDMA pages start with refcount 0; p2pmem_alloc_mmap() sets the count to 1 before vm_insert_page(); free_zone_device_folio() leaves the count of a freed P2PDMA page at 0.',
  },
  // After v6.15, up to the newest mainline tree modelled.
  {
    id: 'p2pdma-fix-inverted-vm-warn',
    subject: 'PCI/P2PDMA: Fix the warning condition in p2pmem_alloc_mmap()',
    commit: 'cb500023a752',
    date: '~2025-12',
    summary: 'VM_WARN_ON_ONCE_PAGE(page_ref_count(page)) instead of the inverted !page_ref_count(page) of seed 000.',
  },
  {
    id: 'p2pdma-put-ref-on-insert-failure',
    subject: 'PCI/P2PDMA: Release the per-cpu ref of pgmap when vm_insert_page() fails',
    commit: '6220694c52a5',
    date: '~2025-12',
    summary: 'p2pmem_alloc_mmap() drops the pgmap reference it took when vm_insert_page() fails.',
  },
  {
    id: 'mm-zone-device-folio-free-op',
    subject: 'mm: ZONE_DEVICE folios: ops->folio_free, get_dev_pagemap(pfn), zone_device_page_init(page, pgmap, order)',
    date: '~2025',
    consolidated: true,
    summary: 'The newest ZONE_DEVICE core: folio_free replaces page_free; get_dev_pagemap() takes one argument; zone_device_page_init() takes the pgmap and an order.',
  },
  {
    id: 'p2pdma-devm-kfree-p2p-pgmap',
    subject: 'PCI/P2PDMA: Free the p2p_pgmap, not the pgmap member, on the add_resource error path',
    commit: '6238784e502b6a9fbeb3a6b77284b29baa4135cc',
    date: '2025-08-20',
    summary: 'pci_p2pdma_add_resource() error path devm_kfree(p2p_pgmap) instead of devm_kfree(pgmap).',
  },
  {
    id: 'p2pdma-reset-count-on-insert-failure',
    subject: 'PCI/P2PDMA: Reset the page count when vm_insert_page() fails',
    date: '2026-01-12',
    summary: 'p2pmem_alloc_mmap() sets the page count back to 0 before returning a page that failed to insert to the pool.',
  },
  {
    id: 'p2pdma-provider-per-bar',
    subject: 'PCI/P2PDMA: pcim_p2pdma_init() and a p2pdma_provider per BAR',
    date: '~2026-01',
    consolidated: true,
    summary: 'The newest p2pdma setup: pcim_p2pdma_init() and one provider per BAR, with pci_p2pdma_setup_pool().',
  },
];

/** Patches proposed but never merged: modelled to ask "what if". */
export const WHAT_IF: readonly Patch[] = [
  {
    id: 'p2pdma-wait-in-kill',
    base: 'v5.1',
    subject: 'PCI/P2PDMA: wait for the devmap_ref in the kill callback, after the last put_page()',
    date: '2018-11-27',
    seed: '002',
    summary:
      "Logan Gunthorpe's diff in the seed 002 thread (reply to \"mm, devm_memremap_pages: Fix shutdown handling\", 2018-11-27): devm_memremap_pages_release() calls pgmap->kill() after its put_page() loop, pci_p2pdma_percpu_kill() waits for devmap_ref_done after percpu_ref_kill(), and pci_p2pdma_release() no longer waits. Wrong with two BARs, as the thread says: the first kill waits for the page references the other pgmap's release has not dropped yet, and the second kill returns at once (the ref is dying).",
  },
  {
    id: 'p2pdma-device-kref',
    base: 'v5.1',
    subject: 'PCI/P2PDMA: kill the devmap_ref on the last pgmap kill, counted by a device-level kref',
    date: '2018-11-29',
    seed: '002',
    summary:
      "Dan Williams' question in the seed 002 thread (\"Can you just have a normal device-level kref for this case? On final device-level kref_put then kill the percpu_ref?\"), as one reading of it: struct pci_p2pdma gets a kref counting its pgmaps (the first pci_p2pdma_add_resource() initialises it, each later one takes a reference); pci_p2pdma_percpu_kill() puts it instead of the percpu_ref_is_dying() guard, and the last put kills the percpu_ref. It replaces the double-kill guard; the wait stays in pci_p2pdma_release(), after arch_remove_memory().",
  },
  {
    id: 'p2pdma-per-resource-ref-v1',
    base: 'v5.2',
    subject: 'PCI/P2PDMA: Track pgmap references per resource, not globally (v1)',
    date: '2019-03-29',
    seed: '001',
    summary:
      "v1 of seed 001's patch 5/6 (Dan Williams, 2019-03-29): pci_p2pdma_release() sets pdev->p2pdma to NULL, synchronize_rcu(), then gen_pool_destroy(pdev->p2pdma->pool), a NULL dereference. Logan Gunthorpe caught it testing the series; v2 keeps p2pdma in a local (\"Fix a NULL-pointer deref crash in pci_p2pdma_release() (Logan)\").",
  },
  {
    id: 'p2pdma-free-pagemap-with-pool',
    base: 'newest',
    subject: 'PCI/P2PDMA: Free the pagemaps only after the pool that hands out their references',
    date: '2026-12-02',
    summary:
      "A candidate fix for the chunk-owner use-after-free (newest tree): pci_p2pdma_add_resource() kzalloc()s the pci_p2pdma_pagemap instead of devm_kzalloc(), and pci_p2pdma_release(), after its synchronize_rcu(), frees each chunk owner's pagemap (gen_pool_for_each_chunk()) before gen_pool_destroy(), so that no allocation can reach a freed chunk owner.",
  },
];

/** Every patch id the model may ask about. */
export const KNOWN_PATCH_IDS: ReadonlySet<string> = new Set([...SERIES, ...WHAT_IF].map((p) => p.id));
