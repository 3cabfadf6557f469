/**
 * The time budget of every test, in every project. Their subject is behaviour, never latency
 * (that is `npm run bench`), so jest's 5 s default, a latency assertion in disguise, does not
 * apply. Integration tests make real round trips to a stack of emulators (three of them JVMs)
 * and the functions, on two cores shared with jest's own workers: a loop over every route
 * takes about 4 s alone and more in a loaded full run. The unit and emulator projects share
 * those cores with the stack in `npm test`, where a 0.7 s emulator test has taken over 5 s.
 * Tests that wait on purpose set their own.
 */
jest.setTimeout(30_000);
