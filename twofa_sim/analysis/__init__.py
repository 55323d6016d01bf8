"""Questions asked of many simulated logins: populations, attackers, the compatibility matrix and the benchmark."""
