/* sha1.h - SHA-1, for the instance id Proxmox derives from cloud-init files
 * (an identifier, not a security measure). The core links no crypto library. */
#ifndef SHA1_H
#define SHA1_H

#include <stddef.h>

/* Writes the 40 lower-case hex digits and a NUL into ret_hex. */
void sha1_hex(const void *data, size_t len, char ret_hex[41]);

#endif
