// A local server that tests can take down and bring back on the same port, as a network outage
// would: taking it down closes the listener and cuts every open connection. Taking down a server
// that is down, or bringing up one that is up, does nothing: clean-up code calls either freely.
import type { Server } from "net";
import { AddressInfo, Socket } from "net";

export interface Interruptible {
    port: number;
    takeDown(): Promise<void>;
    bringUp(): Promise<void>;
}

/** Starts `server` on 127.0.0.1 (a free port) and returns its switch. */
export async function interruptible(server: Server): Promise<Interruptible> {
    const sockets = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
    await listen(0);
    const port = (server.address() as AddressInfo).port;
    return {
        port,
        takeDown: () => (!server.listening ? Promise.resolve() : new Promise<void>((resolve) => {
            server.close(() => resolve());
            sockets.forEach((socket) => socket.destroy());
        })),
        bringUp: () => (server.listening ? Promise.resolve() : listen(port)),
    };
}
