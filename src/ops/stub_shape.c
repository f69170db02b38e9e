/* Placeholder table until the shape family lands; replaced by the family's own file. */
#include "ops/families.h"

const av__op av__ops_shape[1] = {{0}};
const int av__ops_shape_count = 0;
