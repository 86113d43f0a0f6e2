console.log('asyncnet demo');
