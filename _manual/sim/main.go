package main

import (
	"fmt"
	"os"
	"os/signal"

	"palisade/hw-tests/ipmisim"
)

func main() {
	sim, err := ipmisim.Start(ipmisim.Options{User: "admin", Password: "s3cret"})
	if err != nil {
		panic(err)
	}
	defer sim.Stop()
	fmt.Println(sim.Host, sim.Port, sim.Dir)
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, os.Kill)
	<-c
}
