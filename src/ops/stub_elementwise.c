/* Placeholder table until the elementwise family lands; replaced by the family's own file. */
#include "ops/families.h"

const av__op av__ops_elementwise[1] = {{0}};
const int av__ops_elementwise_count = 0;
const av__op av__ops_elementwise_internal[1] = {{0}};
const int av__ops_elementwise_internal_count = 0;
