/** Remote access (point-to-site): what IKEv2 gives a road-warrior client besides its SAs, such as its virtual address. */
package io.isthmus.ike.remoteaccess;
