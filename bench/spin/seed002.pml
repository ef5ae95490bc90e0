/*
 * Seed 002 in Promela: in-kernel p2pmem clients allocate, DMA-map and free p2pmem while the
 * provider's driver is unbound. The same race as zonedev's scenario p2pmem-alloc-vs-unbind
 * (scenarios/p2pmem-alloc-vs-unbind.ts) on the trees
 *   v5.1 (default): devm_memremap_pages_release() kills the pgmap's percpu_ref, drops the page
 *        references and calls arch_remove_memory() without waiting for the references still
 *        held, so a client's pci_p2pdma_map_sg() can read sg_page(s)->pgmap from a struct page
 *        that no longer exists;
 *   v5.2 (-DFIXED): "mm/devm_memremap_pages: Fix final page put race": the release calls
 *        pgmap->cleanup() (wait_for_completion() until the ref is zero, percpu_ref_exit())
 *        before arch_remove_memory().
 * Sizes: -DPAGES=n (pages in the provider's BAR, default 1), -DCLIENTS=n (default 1; each
 * client allocates one page).
 *
 *   spin -a [-DFIXED] -DPAGES=4 -DCLIENTS=2 seed002.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan
 *
 * Checks, as zonedev makes them:
 *   - the panic of seed 002: pci_p2pdma_map_sg() reading a struct page whose memmap is gone;
 *   - the BUG_ONs of lib/genalloc.c (a bit cleared twice, gen_pool_destroy() with an
 *     outstanding allocation) and the WARNs of lib/percpu-refcount.c (count <= 0 after the
 *     switch to atomic, a second kill, percpu_ref_exit() during a switch);
 *   - a hang (an actor blocked for ever, e.g. in wait_for_completion()) is an invalid end state;
 *   - at the end of the scenario (init, once every actor has returned) nothing is left behind:
 *     the ref's per-CPU counters freed, the memmap removed, the pool destroyed, pdev->p2pdma
 *     cleared (zonedev's kmemleak and end-of-unbind checks).
 *
 * What the model keeps: the percpu_ref (the __PERCPU_REF_ATOMIC and __PERCPU_REF_DEAD bits of
 * percpu_count_ptr, the atomic count with PERCPU_COUNT_BIAS, one counter per CPU, the
 * confirm_switch of a switch in progress), RCU read-side sections and grace periods (each
 * grace period waits for exactly the sections open when it starts; the callback of call_rcu()
 * is a process of its own), the completion the release callback completes, the memmap
 * (present or not, per page, removed a section at a time), the genalloc pool (one chunk: a
 * bitmap of one bit per page and its avail counter) and pdev->p2pdma.
 *
 * Steps. Each d_step is one atomic step of the kernel code, as zonedev's model splits it.
 * Kernel steps that touch nothing another actor touches (devres lists, kernfs, the device
 * mutex, the memory hotplug lock, memtype and KASAN shadow bookkeeping, the pgmap_array
 * xarray, loads of words only the same actor writes) are part of the neighbouring step. Use
 * of freed memory (KASAN) and the second and third loads of pdev->p2pdma in
 * pci_alloc_p2pmem() are not modelled: a client reads the pointer once.
 *
 * CPUs: two; each actor stays on the CPU zonedev gives it (thread id modulo 2): the driver on
 * CPU 0, client i (i = 1..CLIENTS) on CPU i % 2.
 */

#ifndef PAGES
#define PAGES 1
#endif
#ifndef CLIENTS
#define CLIENTS 1
#endif

#define NCPU 2
#define PAGES_PER_SECTION 4
#define NSECTIONS ((PAGES + PAGES_PER_SECTION - 1) / PAGES_PER_SECTION)

/* RCU task numbers: the driver, the clients 1..CLIENTS, the RCU callback. */
#define DRIVER 0
#define RCU_CB (CLIENTS + 1)
#define DRIVER_CPU 0
#define TASK(t) (1 << (t))

/* What READ_ONCE(ref->percpu_count_ptr) tells a reader (__ref_is_percpu() and the DEAD test). */
#define PERCPU 0
#define ATOMIC_LIVE 1
#define ATOMIC_DEAD 2
#define REF_MODE (ref_dead -> ATOMIC_DEAD : (ref_atomic -> ATOMIC_LIVE : PERCPU))

/* atomic_long_inc_not_zero() / atomic_long_sub_and_test(): the count including the bias. */
#define COUNT_NONZERO (ref_bias || ref_count != 0)
#define COUNT_IS_ONE (!ref_bias && ref_count == 1)

/* ---- struct percpu_ref (v5.1: pdev->p2pdma->devmap_ref; v5.2: p2p_pgmap->ref) ---- */
bit ref_atomic;        /* percpu_count_ptr & __PERCPU_REF_ATOMIC */
bit ref_dead;          /* percpu_count_ptr & __PERCPU_REF_DEAD */
bit ref_exited;        /* percpu_ref_exit(): per-CPU counters freed */
bit ref_bias;          /* ref->count holds PERCPU_COUNT_BIAS */
short ref_count;       /* ref->count without the bias */
short pcpu[NCPU];      /* *per_cpu_ptr(percpu_count, cpu) */
bit confirm_switch;    /* ref->confirm_switch != NULL: a switch to atomic is in progress */
bit ref_done;          /* v5.1 p2pdma->devmap_ref_done (complete_all), v5.2 p2p_pgmap->ref_done (complete) */

/* ---- RCU (kernel/rcu/tree.c) ---- */
byte rcu_sect;         /* bit t: task t is inside an outermost read-side critical section */
byte gp_cb;            /* the sections the grace period of call_rcu() still waits for */
byte gp_sync;          /* the sections the driver's synchronize_rcu() still waits for */
bit cb_queued;         /* call_rcu(&ref->rcu, percpu_ref_switch_to_atomic_rcu) was called */

/* ---- the memmap (mm/sparse.c): the struct pages of the BAR ---- */
bit present[PAGES];

/* ---- drivers/pci/p2pdma.c and lib/genalloc.c ---- */
bit p2pdma_set;        /* pdev->p2pdma != NULL */
bit pool_alive;        /* the gen_pool and its chunk exist */
bit pool_bits[PAGES];  /* chunk->bits, one bit per page (min_alloc_order = PAGE_SHIFT) */
byte pool_avail;       /* chunk->avail, in pages */

/* ---- the scenario ---- */
bit probed;            /* the provider's probe has returned */
byte finished;         /* actors that have returned */

/* rcu_read_lock() / preempt_disable() opening task t's outermost section. */
inline rcu_enter(t) {
	rcu_sect = rcu_sect | TASK(t)
}

/* The unlock that ends task t's outermost section: no grace period waits for it any more. */
inline rcu_exit(t) {
	rcu_sect = rcu_sect & ~TASK(t);
	gp_cb = gp_cb & ~TASK(t);
	gp_sync = gp_sync & ~TASK(t)
}

/*
 * percpu_ref_put(ref) outside any read-side section (include/linux/percpu-refcount.h
 * percpu_ref_put_many()): rcu_read_lock_sched(); read the mode; this_cpu_sub() or
 * atomic_long_sub_and_test(); at zero ->release(ref), which is pci_p2pdma_percpu_release():
 * complete_all(&p2pdma->devmap_ref_done) (v5.1) / complete(&p2p_pgmap->ref_done) (v5.2);
 * rcu_read_unlock_sched().
 */
inline percpu_ref_put(t, cpu) {
	/* rcu_read_lock_sched(); READ_ONCE(ref->percpu_count_ptr) */
	d_step { rcu_enter(t); mode = REF_MODE }
	if
	:: d_step { mode == PERCPU -> pcpu[cpu] = pcpu[cpu] - 1; rcu_exit(t); mode = 0 }    /* this_cpu_sub(); rcu_read_unlock_sched() */
	:: d_step { mode != PERCPU && !COUNT_IS_ONE -> ref_count--; rcu_exit(t); mode = 0 }  /* atomic_long_sub_and_test(): not zero; unlock */
	:: d_step { mode != PERCPU && COUNT_IS_ONE -> ref_count = 0; ref_done = 1; mode = 0 } /* ... zero: ->release(): complete */
	   d_step { rcu_exit(t) }                                                            /* rcu_read_unlock_sched() */
	fi
}

/*
 * The driver: device_driver_attach() (the probe), then device_release_driver() (the unbind),
 * whose devres_release_all() runs the device's devres actions last-in first-out:
 * devm_memremap_pages_release(), then pci_p2pdma_release().
 */
proctype driver() {
	byte i, p;

	/*
	 * device_driver_attach() → p2pmem_provider_probe() → pci_p2pdma_add_resource(pdev, 0, 0, 0):
	 * pci_p2pdma_setup() (pdev->p2pdma, gen_pool_create(), on v5.1 percpu_ref_init() of
	 * devmap_ref; on v5.2 percpu_ref_init() of the resource's p2p_pgmap->ref), then
	 * devm_memremap_pages(): arch_add_memory() (the memmap of the BAR's sections),
	 * memmap_init_zone_device(), percpu_ref_get_many(ref, pages) on this CPU;
	 * gen_pool_add_virt() / gen_pool_add_owner(): one chunk of PAGES pages;
	 * pci_p2pmem_publish(pdev, true). No client runs before the probe has returned.
	 */
	d_step {
		p2pdma_set = 1;
		pool_alive = 1;
		ref_bias = 1;          /* percpu_ref_init(ref, ..., 0): count = PERCPU_COUNT_BIAS + 1, percpu mode */
		ref_count = 1;
		i = 0;
		do
		:: i < PAGES -> present[i] = 1; i++
		:: else -> break
		od;
		i = 0;
		pcpu[DRIVER_CPU] = PAGES;
		pool_avail = PAGES
	}
	/* (scenario) the provider probe has returned */
	probed = 1;

	/*
	 * devm_memremap_pages_release(pgmap): pgmap->kill(pgmap->ref) = pci_p2pdma_percpu_kill()
	 * (v5.1: return if percpu_ref_is_dying()) → percpu_ref_kill() → percpu_ref_kill_and_confirm():
	 * spin_lock_irqsave(&percpu_ref_switch_lock) (a read-side section: interrupts off),
	 * WARN_ONCE(already dead), ref->percpu_count_ptr |= __PERCPU_REF_DEAD.
	 */
	d_step { rcu_enter(DRIVER); assert(!ref_dead); ref_dead = 1 }
	/*
	 * __percpu_ref_switch_mode() (no switch in progress: to atomic, the ref is dying) →
	 * __percpu_ref_switch_to_atomic(): percpu_count_ptr |= __PERCPU_REF_ATOMIC;
	 * ref->confirm_switch = percpu_ref_noop_confirm_switch.
	 */
	d_step { ref_atomic = 1; confirm_switch = 1 }
	/* percpu_ref_get(ref) (put after confirmation): atomic_long_add(1, &ref->count) */
	d_step { ref_count++ }
	/* call_rcu(&ref->rcu, percpu_ref_switch_to_atomic_rcu): a grace period starts */
	d_step { gp_cb = rcu_sect; cb_queued = 1 }
	/* percpu_ref_put(ref), the initial reference: atomic_long_sub_and_test(1, &ref->count) */
	d_step {
		if
		:: COUNT_IS_ONE -> ref_count = 0; ref_done = 1
		:: else -> ref_count--
		fi
	}
	/* spin_unlock_irqrestore(&percpu_ref_switch_lock) */
	d_step { rcu_exit(DRIVER) }

	/*
	 * for each device pfn: put_page(pfn_to_page(pfn)): the page's last reference →
	 * __put_page() → put_dev_pagemap(page->pgmap) → percpu_ref_put(pgmap->ref).
	 */
	do
	:: d_step {
		i < PAGES ->
		if
		:: !ref_atomic && !ref_dead -> pcpu[DRIVER_CPU] = pcpu[DRIVER_CPU] - 1
		:: else ->
			if
			:: COUNT_IS_ONE -> ref_count = 0; ref_done = 1
			:: else -> ref_count--
			fi
		fi;
		i++
	   }
	:: d_step { i >= PAGES -> i = 0 }; break
	od;

#ifdef FIXED
	/*
	 * v5.2: pgmap->cleanup(pgmap->ref) = pci_p2pdma_percpu_cleanup():
	 * wait_for_completion(&p2p_pgmap->ref_done) ...
	 */
	if :: d_step { ref_done -> ref_done = 0 } fi;
	/* ... percpu_ref_exit(&p2p_pgmap->ref): WARN_ON_ONCE(ref->confirm_switch); free_percpu() */
	d_step { assert(!confirm_switch); ref_exited = 1; pcpu[0] = 0; pcpu[1] = 0 }
#endif

	/*
	 * "pages are dead and unused, undo the arch mapping": mem_hotplug_begin();
	 * arch_remove_memory() → __remove_pages() → sparse_remove_section(), one section at a
	 * time: every struct page of the section is gone.
	 */
	do
	:: d_step {
		i < NSECTIONS ->
		p = i * PAGES_PER_SECTION;
		do
		:: p < PAGES && p < (i + 1) * PAGES_PER_SECTION -> present[p] = 0; p++
		:: else -> break
		od;
		p = 0;
		i++
	   }
	:: d_step { i >= NSECTIONS -> i = 0 }; break
	od;
	/* kasan_remove_zero_shadow(); mem_hotplug_done(); untrack_pfn(); pgmap_array_delete() → synchronize_rcu(): start a grace period */
	if :: d_step { gp_sync = rcu_sect } fi;
	/* synchronize_rcu(): the grace period ends */
	d_step { gp_sync == 0 -> skip }

#ifndef FIXED
	/*
	 * v5.1 pci_p2pdma_release(pdev): if (!pdev->p2pdma) return;
	 * wait_for_completion(&p2pdma->devmap_ref_done) ...
	 */
	d_step { ref_done -> skip }
	/* ... percpu_ref_exit(&p2pdma->devmap_ref): WARN_ON_ONCE(ref->confirm_switch); free_percpu() */
	d_step { assert(!confirm_switch); ref_exited = 1; pcpu[0] = 0; pcpu[1] = 0 }
	/* gen_pool_destroy(p2pdma->pool): BUG_ON(bit < end_bit) for the chunk; kfree(chunk); kfree(pool) */
	d_step {
		i = 0;
		do
		:: i < PAGES -> assert(!pool_bits[i]); i++
		:: else -> break
		od;
		i = 0;
		pool_alive = 0
	}
	/* sysfs_remove_group(p2pmem); pdev->p2pdma = NULL */
	d_step { p2pdma_set = 0 }
#else
	/* v5.2 pci_p2pdma_release(pdev): "Flush and disable pci_alloc_p2p_mem()": pdev->p2pdma = NULL */
	d_step { p2pdma_set = 0 }
	/* synchronize_rcu(): start a grace period */
	d_step { gp_sync = rcu_sect }
	/* synchronize_rcu(): the grace period ends */
	d_step { gp_sync == 0 -> skip }
	/* gen_pool_destroy(p2pdma->pool): BUG_ON(bit < end_bit) for the chunk; kfree(chunk); kfree(pool) */
	d_step {
		i = 0;
		do
		:: i < PAGES -> assert(!pool_bits[i]); i++
		:: else -> break
		od;
		i = 0;
		pool_alive = 0
	}
#endif
	/* (v5.2: sysfs_remove_group()); dev->driver = NULL; device_unlock() */
	finished++
}

/*
 * The callback of call_rcu(): rcu_do_batch() invokes percpu_ref_switch_to_atomic_rcu() in
 * softirq context (itself a read-side section) once the grace period has ended.
 */
proctype rcu_callback() {
	short sum;

	/* rcu_do_batch(): the grace period has ended; local_bh_disable() */
	d_step { cb_queued && gp_cb == 0 -> rcu_enter(RCU_CB) }
	/* percpu_ref_switch_to_atomic_rcu(): for_each_possible_cpu(cpu) count += *per_cpu_ptr(percpu_count, cpu) */
	d_step { sum = pcpu[0] + pcpu[1] }
	/* atomic_long_add((long)count - PERCPU_COUNT_BIAS, &ref->count) */
	d_step { ref_count = ref_count + sum; ref_bias = 0; sum = 0 }
	/* WARN_ONCE(atomic_long_read(&ref->count) <= 0, "percpu ref (%ps) <= 0 (%ld) after switching to atomic") */
	d_step { assert(ref_count > 0) }
	/*
	 * percpu_ref_call_confirm_rcu(): ref->confirm_switch(ref) (the no-op of a kill);
	 * ref->confirm_switch = NULL; wake_up_all(&percpu_ref_switch_waitq).
	 */
	d_step { confirm_switch = 0 }
	/*
	 * percpu_ref_put(ref), the reference __percpu_ref_switch_to_atomic() took (nested in the
	 * callback's section): atomic_long_sub_and_test(1, &ref->count); at zero ->release(ref).
	 */
	d_step {
		if
		:: COUNT_IS_ONE -> ref_count = 0; ref_done = 1
		:: else -> ref_count--
		fi
	}
	/* rcu_do_batch(): callback done, local_bh_enable() */
	d_step { rcu_exit(RCU_CB); finished++ }
}

/*
 * An in-kernel p2pmem client (nvmet-like, configured with the provider after its probe):
 * pci_p2pmem_alloc_sgl(pdev, &nents, PAGE_SIZE) → pci_alloc_p2pmem(); dma_map_sg() →
 * pci_p2pdma_map_sg(); pci_p2pmem_free_sgl() → pci_free_p2pmem(); pci_dev_put().
 */
proctype client(byte t) {
	byte mode, start, pg;

	/* (scenario) wait for the provider probe */
	probed;

#ifndef FIXED
	/* v5.1 pci_alloc_p2pmem(): if (unlikely(!pdev->p2pdma)) return NULL */
	if
	:: d_step { !p2pdma_set -> skip }; goto done
	:: d_step { p2pdma_set -> skip }
	fi;
	/*
	 * percpu_ref_tryget_live(&pdev->p2pdma->devmap_ref) (include/linux/percpu-refcount.h):
	 * rcu_read_lock_sched(); READ_ONCE(ref->percpu_count_ptr).
	 */
	d_step { rcu_enter(t); mode = REF_MODE }
	if
	:: d_step { mode == PERCPU -> pcpu[t % NCPU] = pcpu[t % NCPU] + 1; rcu_exit(t); mode = 0 }  /* this_cpu_inc(); rcu_read_unlock_sched() */
	:: d_step { mode == ATOMIC_LIVE && COUNT_NONZERO -> ref_count++; rcu_exit(t); mode = 0 }    /* atomic_long_inc_not_zero() */
	:: d_step { mode == ATOMIC_LIVE && !COUNT_NONZERO -> rcu_exit(t); mode = 0 }; goto done
	:: d_step { mode == ATOMIC_DEAD -> rcu_exit(t); mode = 0 }; goto done                       /* dead: rcu_read_unlock_sched() */
	fi;

	/* gen_pool_alloc(pdev->p2pdma->pool, PAGE_SIZE): rcu_read_lock(); list_for_each_entry_rcu(chunk, &pool->chunks) */
	d_step { rcu_enter(t) }
	/* if (size > atomic_long_read(&chunk->avail)) continue */
	if
	:: d_step { pool_avail == 0 -> skip }; goto alloc_unlock
	:: d_step { pool_avail > 0 -> start = 0 }
	fi;
alloc_retry:
	/* start_bit = algo(chunk->bits, end_bit, start_bit, nbits, ...) = gen_pool_first_fit() */
	if
	:: d_step {
		do
		:: start < PAGES && pool_bits[start] -> start++
		:: else -> break
		od
	   }
	fi;
	if
	:: d_step { start < PAGES && !pool_bits[start] -> pool_bits[start] = 1 }     /* set_bits_ll(&chunk->bits[0], mask) */
	:: d_step { start < PAGES && pool_bits[start] -> skip }; goto alloc_retry    /* set_bits_ll() lost the word: -EBUSY, retry */
	:: d_step { start >= PAGES -> start = 0; rcu_exit(t) }; goto alloc_failed    /* nothing fits; rcu_read_unlock() */
	fi;
	/* atomic_long_sub(size, &chunk->avail) */
	d_step { pool_avail--; pg = start; start = 0 }
	/* rcu_read_unlock() */
	d_step { rcu_exit(t) }
	goto mapped;
alloc_unlock:
	/* rcu_read_unlock() */
	if :: d_step { rcu_exit(t) } fi;
alloc_failed:
	/* pci_alloc_p2pmem(): if (unlikely(!ret)) percpu_ref_put(&pdev->p2pdma->devmap_ref) */
	if :: percpu_ref_put(t, t % NCPU) fi;
	goto done;

#else
	/* v5.2 pci_alloc_p2pmem(): rcu_read_lock(); if (unlikely(!pdev->p2pdma)) goto out */
	if
	:: d_step { !p2pdma_set -> rcu_enter(t) }
	   d_step { rcu_exit(t) }; goto done                                           /* out: rcu_read_unlock() */
	:: d_step { p2pdma_set -> rcu_enter(t) }
	fi;
	/*
	 * gen_pool_alloc_owner(p2pdma->pool, size, &ref) (nested rcu_read_lock(); the chunk walk):
	 * if (size > atomic_long_read(&chunk->avail)) continue
	 */
	if
	:: d_step { pool_avail == 0 -> skip }; goto alloc_none
	:: d_step { pool_avail > 0 -> start = 0 }
	fi;
alloc_retry:
	/* start_bit = algo(chunk->bits, end_bit, start_bit, nbits, ...) = gen_pool_first_fit() */
	if
	:: d_step {
		do
		:: start < PAGES && pool_bits[start] -> start++
		:: else -> break
		od
	   }
	fi;
	if
	:: d_step { start < PAGES && !pool_bits[start] -> pool_bits[start] = 1 }     /* set_bits_ll(&chunk->bits[0], mask) */
	:: d_step { start < PAGES && pool_bits[start] -> skip }; goto alloc_retry    /* set_bits_ll() lost the word: -EBUSY, retry */
	:: d_step { start >= PAGES -> start = 0 }; goto alloc_none                   /* nothing fits: nested rcu_read_unlock() */
	fi;
	/* atomic_long_sub(size, &chunk->avail); *owner = chunk->owner (nested rcu_read_unlock()) */
	d_step { pool_avail--; pg = start; start = 0 }
	/* percpu_ref_tryget_live(ref) (nested rcu_read_lock_sched()): READ_ONCE(ref->percpu_count_ptr) */
	d_step { mode = REF_MODE }
	if
	:: d_step { mode == PERCPU -> pcpu[t % NCPU] = pcpu[t % NCPU] + 1; mode = 0 }  /* this_cpu_inc() */
	:: d_step { mode == ATOMIC_LIVE && COUNT_NONZERO -> ref_count++; mode = 0 }    /* atomic_long_inc_not_zero() */
	:: d_step { mode == ATOMIC_LIVE && !COUNT_NONZERO -> mode = 0 }; goto tryget_failed
	:: d_step { mode == ATOMIC_DEAD -> mode = 0 }; goto tryget_failed              /* dead: rcu_read_unlock_sched() */
	fi;
	/* out: rcu_read_unlock() */
	d_step { rcu_exit(t) }
	goto mapped;
tryget_failed:
	/* gen_pool_free(pdev->p2pdma->pool, ret, size) (nested walk): clear_bits_ll(); BUG_ON(remain) */
	if :: d_step { assert(pool_bits[pg]); pool_bits[pg] = 0; pg = 0 } fi;
	/* atomic_long_add(size, &chunk->avail) (then the nested rcu_read_unlock()) */
	d_step { pool_avail++ }
alloc_none:
	/* out: rcu_read_unlock() */
	if :: d_step { rcu_exit(t) } fi;
	goto done;
#endif

mapped:
	/* dma_map_sg() → pci_p2pdma_map_sg(): pgmap = sg_page(s)->pgmap, a read of the struct page */
	if :: d_step { assert(present[pg]) } fi;   /* BUG: unable to handle page fault: the memmap has been removed */

	/*
	 * pci_p2pmem_free_sgl() → pci_free_p2pmem(): gen_pool_free(p2pdma->pool, ...)
	 * (v5.2 gen_pool_free_owner()): rcu_read_lock(); list_for_each_entry_rcu(chunk, ...)
	 */
	d_step { rcu_enter(t) }
	/* clear_bits_ll(&chunk->bits[0], mask); BUG_ON(remain) */
	d_step { assert(pool_bits[pg]); pool_bits[pg] = 0; pg = 0 }
	/* atomic_long_add(size, &chunk->avail) */
	d_step { pool_avail++ }
	/* rcu_read_unlock() */
	d_step { rcu_exit(t) }
	/* percpu_ref_put(&pdev->p2pdma->devmap_ref) (v5.1) / percpu_ref_put(ref), the chunk owner (v5.2) */
	percpu_ref_put(t, t % NCPU);

done:
	/* kfree(sg); pci_dev_put(pdev) */
	finished++
}

/* The scenario: its actors, then the end-of-scenario checks. */
init {
	byte i;

	atomic {
		run driver();
		i = 1;
		do
		:: i <= CLIENTS -> run client(i); i++
		:: else -> break
		od;
		run rcu_callback();
		i = 0
	}

	/* every actor has returned (one blocked for ever leaves this an invalid end state: a hang) */
	finished == CLIENTS + 2;

	/* kmemleak: the per-CPU counters of the ref were freed */
	assert(ref_exited);
	/* after unbind: the memmap of the BAR is gone, pdev->p2pdma cleared, the pool destroyed */
	d_step {
		do
		:: i < PAGES -> assert(!present[i]); i++
		:: else -> break
		od;
		i = 0
	}
	assert(!p2pdma_set && !pool_alive)
}
