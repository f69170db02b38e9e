/* Placeholder table until the reduce family lands; replaced by the family's own file. */
#include "ops/families.h"

const av__op av__ops_reduce[1] = {{0}};
const int av__ops_reduce_count = 0;
