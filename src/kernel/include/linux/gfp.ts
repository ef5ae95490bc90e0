// include/linux/gfp_types.h: the allocation flags the model passes along. They do not change
// what the model does, except that every allocation may fail.

export type gfp_t = 'GFP_KERNEL' | 'GFP_ATOMIC' | 'GFP_NOWAIT';
export const GFP_KERNEL: gfp_t = 'GFP_KERNEL';
export const GFP_ATOMIC: gfp_t = 'GFP_ATOMIC';
export const GFP_NOWAIT: gfp_t = 'GFP_NOWAIT';
