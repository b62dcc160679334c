// Entry of the matcher's second thread (dot-threads.ts starts it).
import { workerData } from 'node:worker_threads';
import { serve, type WorkerData } from './dot-threads.js';

serve(workerData as WorkerData);
