#ifndef HWC_VERSION_H
#define HWC_VERSION_H
#define HWC_VERSION "0.1.0"
#endif
