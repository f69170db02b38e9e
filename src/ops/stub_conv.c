/* Placeholder table until the conv family lands; replaced by the family's own file. */
#include "ops/families.h"

const av__op av__ops_conv[1] = {{0}};
const int av__ops_conv_count = 0;
const av__op_stateful av__ops_conv_internal[1] = {{{0}, 0, 0}};
const int av__ops_conv_internal_count = 0;
