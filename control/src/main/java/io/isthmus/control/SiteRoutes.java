package io.isthmus.control;

import java.io.IOException;
import java.util.List;

/**
 * The host's routes that lead site prefixes into the tunnel device, as a reload adds and removes
 * them, all of a reload's at once: {@link HostRouting#into} with one {@code ip -batch} on a
 * gateway (one ip(8) process per prefix took 10,000 processes to reload 10,000 sites), a list in
 * tests.
 */
interface SiteRoutes {
    /**
     * Routes every one of {@code prefixes} into the tunnel device, replacing a route for it that
     * was there; all or none: on a failure the ones added are taken out again, and the exception
     * names the prefix that failed.
     */
    void add(List<String> prefixes) throws IOException, InterruptedException;

    /**
     * Takes the routes for {@code prefixes} out of the tunnel device, each it can; returns a line
     * for each that could not be, naming the prefix and why.
     */
    List<String> remove(List<String> prefixes) throws IOException, InterruptedException;
}
