/* autovoice: singing voice conversion. The one header an application includes. */
#ifndef AUTOVOICE_AUTOVOICE_H
#define AUTOVOICE_AUTOVOICE_H

#include "autovoice/common.h"
#include "autovoice/audio.h"
#include "autovoice/engine.h"
#include "autovoice/svc.h"
#include "autovoice/f0.h"

#endif /* AUTOVOICE_AUTOVOICE_H */
